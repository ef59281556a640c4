"""Reconstructions by purely random CNN-DCNs, "rrVGG" (He et al. §4; SPEC §4): quality sweeps and their statistics.

No weight is trained: a random VGG encoder followed by its random mirrored DCN (ReLU, max pooling, zero-fill
upsampling, Gaussian weights) maps an image to an output whose *geometry* matches the input. Quality is the
paper's: SSIM and Pearson r between grayscale output and input, the output's luminosity inverted where SSIM is
negative (:func:`rdcn.metrics.quality`).

- :func:`network_seeds` — the seeds of the networks of one setting, independent streams from the chapter's seed.
- :func:`width_nets`, :func:`kernel_nets`, :func:`depth_nets` — the networks of §4.2 (Conv1-DeConv1 with N
  channels in every layer), §4.3 (Conv1_1-DeConv1_1 with kernel k) and §4.1 (ConvK-DeConvK and its simplified
  one-conv counterpart).
- :func:`sweep` — SSIM and r of every network of every setting on every image, the networks of a setting run
  together by :mod:`rdcn.batched`; a :class:`Sweep` holds the results (settings × networks × images).
- :func:`reconstruct`, :func:`measured_view` and :func:`closest_views` — one network's output again, the
  grayscale image SSIM was computed on, and per setting the output closest to the mean SSIM (for the figures).
- :func:`spearman` — the trend statistic of the chapter's claims.

For a bias-free ReLU network every layer is positively homogeneous, so the Gaussian's σ only scales the output;
min-maxed before SSIM (and r being scale-free), the quality does not depend on σ.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from ..core import architectures as arch
from ..core import metrics
from . import batched

#: He et al. §4: plain ReLU in both halves, max pooling, zero-fill upsampling.
CONFIG = {**batched.RELU, "pooling": "max", "upsample": "zero"}
#: The two networks of §4.2: the original rrVGG (last layer a conv to 3 channels) and the variant of Definition 5.1
#: (last layer the mean over channels, every other conv's maps scaled by 1/√N).
VARIANTS = {"original": dict(last="conv", width_scaling=False), "variant": dict(last="mean", width_scaling=True)}


def network_seeds(seed: int, count: int, *key) -> list[int]:
    """``count`` seeds for the networks of one setting (``key``, e.g. ``("width", "variant", 64)``): numpy's
    ``SeedSequence(seed)`` spawned at the key's CRC32, so every setting draws independent networks and a rerun the
    same ones."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    spawn = zlib.crc32("/".join(map(str, key)).encode())
    return [int(s) for s in np.random.SeedSequence(seed, spawn_key=(spawn,)).generate_state(count)]


def variant_config(variant: str) -> dict:
    """The :func:`rdcn.architectures.cnn_dcn` keywords of ``variant`` (one of :data:`VARIANTS`)."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {list(VARIANTS)}, got {variant!r}")
    return {**CONFIG, **VARIANTS[variant]}


def width_nets(widths) -> dict[int, arch.Layers]:
    """§4.2's rrVGG Conv1-DeConv1 (two convs, pool; upsample, two convs) with N channels in every layer but the
    output, for each N of ``widths``."""
    vgg = arch.architecture("vgg16")
    return {int(n): arch.same_width(arch.cut(vgg, "pool1"), int(n)) for n in widths}


def kernel_nets(kernel_sizes) -> dict[int, arch.Layers]:
    """§4.3's rrVGG Conv1_1-DeConv1_1 (one conv, one deconv, 64 channels) with a k×k kernel, for each k."""
    return {int(k): arch.cut(arch.architecture("vgg16", kernel_size=int(k)), "conv1_1") for k in kernel_sizes}


def depth_nets(width: float = 1.0, blocks=(1, 2, 3, 4, 5)) -> dict[str, dict[int, arch.Layers]]:
    """§4.1's networks for each K of ``blocks``: ``"full"`` = ConvK-DeConvK of VGG16, ``"simplified"`` = input →
    one conv with ConvK's width and shape → one deconv (``width`` multiplies VGG16's channels)."""
    vgg = arch.architecture("vgg16", width=width)
    return {"full": {k: arch.cut(vgg, f"conv{k}") for k in blocks},
            "simplified": {k: arch.simplified(vgg, f"conv{k}") for k in blocks}}


@dataclass
class Sweep:
    """Quality of random CNN-DCN reconstructions: ``ssim``, ``r`` and ``inverted`` are settings × networks ×
    images arrays, ``seeds[i][j]`` the seed of network j of setting ``settings[i]``."""

    settings: list
    seeds: list[list[int]]
    ssim: np.ndarray
    r: np.ndarray
    inverted: np.ndarray

    def _metric(self, metric: str) -> np.ndarray:
        if metric not in ("ssim", "r"):
            raise ValueError(f"metric must be 'ssim' or 'r', got {metric!r}")
        return getattr(self, metric)

    def per_network(self, metric: str = "ssim") -> np.ndarray:
        """settings × networks: each network's mean over the images (the paper's per-network average)."""
        return self._metric(metric).mean(axis=2)

    def summary(self, metric: str = "ssim") -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) over networks of the per-network means, one per setting (the paper's Figs. 8–9)."""
        values = self.per_network(metric)
        return values.mean(axis=1), values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))

    def closest_to_mean(self, image: int) -> list[int]:
        """Per setting, the network whose SSIM on ``image`` is closest to the mean SSIM of all networks on it."""
        values = self.ssim[:, :, image]
        return [int(i) for i in np.abs(values - values.mean(axis=1, keepdims=True)).argmin(axis=1)]


def sweep(nets: dict, images: torch.Tensor, seeds: dict, device: str = "cpu", max_bytes: int | None = None,
          progress: bool = True, **config) -> Sweep:
    """SSIM, r and inversion of every network on every image: ``nets`` maps a setting to its layers, ``seeds`` a
    setting to its networks' seeds; ``config`` are the :func:`rdcn.architectures.cnn_dcn` keywords. Each
    setting's networks run as one batched program (:func:`rdcn.batched.outputs`), then each output is scored by
    :func:`rdcn.metrics.quality`."""
    if set(nets) != set(seeds):
        raise ValueError(f"nets and seeds must name the same settings, got {sorted(nets)} and {sorted(seeds)}")
    counts = {len(s) for s in seeds.values()}
    if len(counts) != 1:
        raise ValueError(f"every setting needs the same number of networks, got {sorted(counts)}")
    settings, n, m = list(nets), counts.pop(), len(images)
    ssim, r, inverted = (np.zeros((len(settings), n, m), dtype) for dtype in (float, float, bool))
    bar = tqdm(total=len(settings) * n * m, unit="output", disable=not progress)
    for i, setting in enumerate(settings):
        for chunk, part, out in batched.outputs(nets[setting], seeds[setting], images, device=device,
                                                max_bytes=max_bytes, **config):
            target = images[part.start : part.stop].repeat(len(chunk), 1, 1, 1)
            quality = metrics.quality(out.flatten(0, 1), target)
            for array, values in zip((ssim, r, inverted), quality):
                array[i, chunk.start : chunk.stop, part.start : part.stop] = values.reshape(len(chunk), len(part))
            bar.update(len(chunk) * len(part))
    bar.close()
    return Sweep(settings, [list(seeds[s]) for s in settings], ssim, r, inverted)


def reconstruct(layers: arch.Layers, seed: int, images: torch.Tensor, device: str = "cpu", **config) -> torch.Tensor:
    """The outputs (on the CPU) of the one random CNN-DCN of ``layers`` drawn from ``seed``, for ``images``."""
    return batched.RandomCNNDCNs(layers, [seed], device=device, **config)(images.to(device))[0].cpu()


def closest_views(result: Sweep, nets: dict, images: torch.Tensor, shown, device: str = "cpu",
                  **config) -> tuple[list[list[np.ndarray]], list[list[float]]]:
    """For each image index of ``shown`` (rows) and each setting of ``result`` (columns): the measured view
    (:func:`measured_view`) of the output whose SSIM is closest to the mean over the networks
    (:meth:`Sweep.closest_to_mean`), recomputed from its seed, and that SSIM (He et al. §4.2's figure)."""
    views, values = [], []
    for j in shown:
        picks = result.closest_to_mean(j)
        target = images[j : j + 1]
        row = [measured_view(reconstruct(nets[s], result.seeds[i][picks[i]], target, device, **config), target)[0]
               for i, s in enumerate(result.settings)]
        views.append(row)
        values.append([float(result.ssim[i, picks[i], j]) for i in range(len(result.settings))])
    return views, values


def measured_view(output: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """N×H×W: the grayscale, min-maxed outputs that SSIM compared with ``target`` (luminosity inverted where the
    paper's rule inverted it)."""
    inverted = metrics.quality(output, target)[2]
    view = metrics.minmax(metrics.grayscale(output))
    return np.where(inverted[:, None, None], 1.0 - view, view)


def spearman(x, y) -> float:
    """Spearman's rank correlation between a setting and a measured mean (±1: a perfectly monotone trend)."""
    return float(stats.spearmanr(x, y).statistic)
