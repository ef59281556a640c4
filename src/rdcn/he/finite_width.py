"""Random variants of finite width against their infinite-width limit (He et al. §5.2, Theorems 5.2 and 5.3).

:func:`outputs` draws ``networks`` random variants (Definition 5.1) per width, every conv ``width`` channels wide,
and runs them on a batch of images as one tensor program (:mod:`rdcn.batched`); the outputs come back in the
paper's normalisation (:func:`rdcn.theory.paper_normalised`), so that they converge to
:func:`rdcn.theory.limit`'s ȳ. :func:`angles` measures each output's angle to ȳ; :func:`loglog_slope` fits
log angle against log N — Theorems 5.2/5.3 predict an angle of order 1/√N, a slope of −1/2.

Network i at width N draws its weights from seed ``network_seed(seed, N, i)``: the same networks for every
pooling, so an ℓ2-, an average- and a max-pooling variant of one seed share every filter.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy import stats

from ..core import architectures as arch
from . import batched
from .theory import angle, paper_normalised


def network_seed(seed: int, width: int, index: int) -> int:
    """The seed of network ``index`` at ``width`` in a run seeded ``seed``: seed·10⁹ + width·10⁴ + index."""
    if not 0 <= index < 10_000:
        raise ValueError(f"index must lie in [0, 10000), got {index!r}")
    return seed * 10**9 + width * 10**4 + index


def outputs(layers: arch.Layers, widths: Sequence[int], networks: int, images: torch.Tensor, seed: int = 0,
            pooling: str = "l2", distribution: str = "gaussian", device: str = "cpu",
            params: dict | None = None) -> dict[int, torch.Tensor]:
    """Outputs of ``networks`` random variants of ``layers`` per width (every conv ``width`` wide, ``pooling``,
    zero-fill upsampling, the mean over channels last, 1/√N scaling) on ``images`` (M × C × H × W):
    width → networks × M × 1 × H × W float64 on the CPU, in the paper's normalisation."""
    if not isinstance(networks, int) or networks < 1:
        raise ValueError(f"networks must be a positive integer, got {networks!r}")
    config = dict(pooling=pooling, upsample="zero", last="mean", width_scaling=True)
    result = {}
    for width in widths:
        wide = arch.same_width(layers, width)
        seeds = [network_seed(seed, width, i) for i in range(networks)]
        out = torch.empty(networks, len(images), 1, *images.shape[-2:], dtype=torch.float64)
        for nets, imgs, y in batched.outputs(wide, seeds, images, distribution, device, params=params, **config):
            out[nets.start : nets.stop, imgs.start : imgs.stop] = y.double().cpu()
        result[width] = paper_normalised(batched.template(wide, **config), out)
    return result


def angles(outputs_by_width: dict[int, torch.Tensor], ybar: torch.Tensor) -> dict[int, np.ndarray]:
    """Angle (radians) between each output and ȳ of its image: width → networks × M array."""
    result = {}
    for width, y in outputs_by_width.items():
        n, m = y.shape[:2]
        target = ybar.to(y).expand(n, *ybar.shape).reshape(n * m, -1)
        result[width] = angle(y.reshape(n * m, -1), target).reshape(n, m).numpy()
    return result


def loglog_slope(angles_by_width: dict[int, np.ndarray]) -> dict[str, float]:
    """Least-squares fit of log(angle) on log(N) over every network and image: slope, its standard error,
    intercept (scipy.stats.linregress)."""
    x = np.concatenate([np.full(a.size, np.log(w)) for w, a in angles_by_width.items()])
    y = np.concatenate([np.log(np.asarray(a, float).ravel()) for a in angles_by_width.values()])
    if len(set(x)) < 2:
        raise ValueError("a slope needs angles at two widths at least")
    fit = stats.linregress(x, y)
    return dict(slope=float(fit.slope), stderr=float(fit.stderr), intercept=float(fit.intercept))
