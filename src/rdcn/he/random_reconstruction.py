"""Reconstructions by purely random CNN-DCNs, "rrVGG" (He et al. §4): the networks of §4 and the sweep that scores
them.

No weight is trained: a random VGG encoder followed by its random mirrored DCN (ReLU, max pooling, zero-fill
upsampling, Gaussian weights) maps an image to an output whose *geometry* matches the input. Quality is the
paper's (§4): SSIM (Wang et al.'s 11×11 Gaussian window, σ = 1.5) and Pearson r between grayscale output and
input, the output's luminosity inverted where SSIM is negative (:func:`rdcn.core.metrics.quality`); beside them
Shu et al.'s colour measure (:mod:`.colour_geometry`) and, where a reference image is given (the limit ȳ of
Theorem 5.1), the cosine to it.

- :data:`VARIANTS`, :func:`variant_config` — §4.2's original rrVGG and the paper's *variant* (Definition 5.1), with
  max pooling (§4) or ℓ2 pooling (Theorem 5.1), zero-fill or nearest-neighbour upsampling.
- :func:`width_nets`, :func:`kernel_nets`, :func:`depth_nets` — the networks of §4.2 (Conv1-DeConv1 with N
  channels in every layer), §4.3 (Conv1_1-DeConv1_1 with kernel k) and §4.1 (ConvK-DeConvK and the simplified
  input-ConvK-DeConvK-output nets, :func:`rdcn.core.architectures.simplified`).
- :func:`setting_seeds` — the networks' seeds, per setting, from :func:`rdcn.core.seeds.derive_many`.
- :func:`sweep` — every network of every setting on every image, a setting's networks run together by
  :mod:`rdcn.he.batched`; a :class:`Sweep` holds the scores (settings × networks × images).
- :func:`reconstruct`, :func:`measured_view`, :func:`closest_views` — one network's output again, the grayscale
  image SSIM was computed on, and per setting the output closest to the mean SSIM (He et al.'s Fig. 10).

For a bias-free ReLU network every layer is positively homogeneous, so the Gaussian's σ only scales the output;
min-maxed before SSIM (and r being scale-free), the quality does not depend on σ.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from ..claims import rules
from ..core import architectures as arch
from ..core import checks, metrics, seeds
from . import batched
from .colour_geometry import colour_r
from .theory import cosine

#: The two networks of §4.2: the original rrVGG (last layer a conv to 3 channels) and the variant of Definition 5.1
#: (last layer the mean over channels, every other conv's maps scaled by 1/√N).
VARIANTS = {"original": dict(last="conv", width_scaling=False), "variant": dict(last="mean", width_scaling=True)}
METRICS = ("ssim", "r", "colour_r", "cosine")


def variant_config(variant: str, pooling: str = "max", upsample: str = "zero") -> dict:
    """The :func:`rdcn.core.architectures.cnn_dcn` keywords of ``variant`` (one of :data:`VARIANTS`): He et al.
    §4's plain ReLU in both halves, ``pooling`` (§4's ``"max"``, Theorem 5.1's ``"l2"``) and ``upsample`` (§4's
    ``"zero"``, or ``"nearest"``)."""
    checks.choice("variant", variant, VARIANTS)
    checks.choice("pooling", pooling, arch.POOLINGS)
    checks.choice("upsample", upsample, arch.UPSAMPLINGS)
    return {**batched.RELU, "pooling": pooling, "upsample": upsample, **VARIANTS[variant]}


def width_nets(widths) -> dict[int, arch.Layers]:
    """§4.2's rrVGG Conv1-DeConv1 (two convs, pool; upsample, two convs) with N channels in every layer but the
    output, for each N of ``widths``."""
    vgg = arch.architecture("vgg16")
    return {n: arch.same_width(arch.cut(vgg, "pool1"), n) for n in checks.positive_ints("widths", widths)}


def kernel_nets(kernel_sizes) -> dict[int, arch.Layers]:
    """§4.3's rrVGG Conv1_1-DeConv1_1 (one conv, one deconv, 64 channels) with a k×k kernel, for each k."""
    return {k: arch.cut(arch.architecture("vgg16", kernel_size=k), "conv1_1")
            for k in checks.positive_ints("kernel_sizes", kernel_sizes)}


def depth_nets(width: float = 1.0, blocks=(1, 2, 3, 4, 5)) -> dict[str, dict[int, arch.Layers]]:
    """§4.1's networks for each K of ``blocks`` (``width`` multiplies VGG16's channels): ``"full"`` = VGG16's
    ConvK-DeConvK; ``"simplified"`` = input → one conv of ConvK's width → one pooling of 2^(K−1) and the mirrored
    DCN (no pixel discarded); ``"strided"`` = the labelled alternative, one conv at stride 2^(K−1)."""
    vgg = arch.architecture("vgg16", width=checks.positive_number("width", width))
    blocks = checks.positive_ints("blocks", blocks)
    return {"full": {k: arch.cut(vgg, f"conv{k}") for k in blocks},
            "simplified": {k: arch.simplified(vgg, f"conv{k}", "pooled") for k in blocks},
            "strided": {k: arch.simplified(vgg, f"conv{k}", "strided") for k in blocks}}


def setting_seeds(seed: int, networks: int, settings, *key) -> dict:
    """``networks`` seeds per setting: setting s draws :func:`rdcn.core.seeds.derive_many` ``(seed, networks, *key,
    s)``, so every setting has its own networks and a rerun the same ones."""
    return {s: seeds.derive_many(seed, networks, *key, s) for s in settings}


@dataclass
class Sweep:
    """Scores of random CNN-DCN outputs: ``ssim``, ``r`` (after the paper's inversion), ``inverted``, ``colour_r``
    (oriented by the sign of the output's grayscale r, :func:`rdcn.he.colour_geometry.colour_r`) and ``cosine`` to
    a reference image (or None) are settings × networks × images arrays, ``seeds[i][j]`` the seed of network j of
    setting ``settings[i]``."""

    settings: list
    seeds: list[list[int]]
    ssim: np.ndarray
    r: np.ndarray
    inverted: np.ndarray
    colour_r: np.ndarray
    cosine: np.ndarray | None = None

    def per_network(self, metric: str = "ssim") -> np.ndarray:
        """settings × networks: each network's mean over the images (the paper's per-network average)."""
        values = getattr(self, checks.choice("metric", metric, METRICS))
        if values is None:
            raise ValueError(f"this sweep has no {metric!r}: give sweep() a reference")
        return values.mean(axis=2)

    def summary(self, metric: str = "ssim") -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) over networks of the per-network means, one per setting (the paper's Figs. 8–9)."""
        values = self.per_network(metric)
        return values.mean(axis=1), values.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))

    def half_width(self, metric: str = "ssim") -> np.ndarray:
        """Per setting, the half-width of the Student-t 95 % interval of the mean of the per-network means."""
        return t_half_width(self.per_network(metric))

    def deviations(self, metric: str = "ssim") -> np.ndarray:
        """settings × networks: each network's distance from its setting's median per-network mean (the spread
        statistic of Brown and Forsythe's test)."""
        values = self.per_network(metric)
        return np.abs(values - np.median(values, axis=1, keepdims=True))

    def closest_to_mean(self, image: int) -> list[int]:
        """Per setting, the network whose SSIM on ``image`` is closest to the mean SSIM of all networks on it."""
        values = self.ssim[:, :, image]
        return [int(i) for i in np.abs(values - values.mean(axis=1, keepdims=True)).argmin(axis=1)]

    def subset(self, networks: int) -> Sweep:
        """The same sweep restricted to the first ``networks`` networks of every setting."""
        checks.positive_int("networks", networks)
        cut = slice(0, networks)
        return Sweep(self.settings, [s[cut] for s in self.seeds], self.ssim[:, cut], self.r[:, cut],
                     self.inverted[:, cut], self.colour_r[:, cut], None if self.cosine is None else self.cosine[:, cut])


def t_half_width(values) -> np.ndarray:
    """The half-width of the Student-t 95 % interval of the mean of each row of ``values`` (replicates along the
    last axis; 0 where there is a single replicate)."""
    values = np.asarray(values, float)
    n = values.shape[-1]
    if n < 2:
        return np.zeros(values.shape[:-1])
    return stats.t.ppf(0.5 + rules.LEVEL / 2, n - 1) * values.std(axis=-1, ddof=1) / np.sqrt(n)


def sweep(nets: dict, images: torch.Tensor, seeds_by_setting: dict, device: str = "cpu",
          reference: torch.Tensor | None = None, max_bytes: int | None = None, progress: bool = True,
          **config) -> Sweep:
    """The scores of every network on every image: ``nets`` maps a setting to its layers, ``seeds_by_setting`` a
    setting to its networks' seeds; ``config`` are the :func:`rdcn.core.architectures.cnn_dcn` keywords;
    ``reference`` (M × C × H × W, one per image) adds each output's cosine to it. Each setting's networks run as
    one batched program (:func:`rdcn.he.batched.outputs`); each output is scored by
    :func:`rdcn.core.metrics.quality` and :func:`rdcn.he.colour_geometry.colour_r`."""
    if set(nets) != set(seeds_by_setting):
        raise ValueError(f"nets and seeds_by_setting must name the same settings, got {sorted(nets)} and "
                         f"{sorted(seeds_by_setting)}")
    counts = {len(s) for s in seeds_by_setting.values()}
    if len(counts) != 1:
        raise ValueError(f"every setting needs the same number of networks, got {sorted(counts)}")
    if reference is not None and len(reference) != len(images):
        raise ValueError(f"reference must hold one image per image, got {len(reference)} for {len(images)}")
    settings, n, m = list(nets), counts.pop(), len(images)
    shape = (len(settings), n, m)
    ssim, r, colour, cos = (np.zeros(shape) for _ in range(4))
    inverted = np.zeros(shape, bool)
    bar = tqdm(total=len(settings) * n * m, unit="output", disable=not progress)
    for i, setting in enumerate(settings):
        for chunk, part, out in batched.outputs(nets[setting], seeds_by_setting[setting], images, device=device,
                                                max_bytes=max_bytes, **config):
            out = out.flatten(0, 1)
            target = images[part.start : part.stop].repeat(len(chunk), 1, 1, 1)
            s, rr, inv = metrics.quality(out, target)  # on the outputs' device
            out = out.cpu()
            negative = np.where(inv, -rr, rr) < 0  # the grayscale r of the output as it came (before the inversion)
            scores = [(ssim, s), (r, rr), (inverted, inv), (colour, colour_r(out, target, negative))]
            if reference is not None:
                scores.append((cos, cosine(out, reference[part.start : part.stop].repeat(len(chunk), 1, 1, 1))))
            for array, values in scores:
                array[i, chunk.start : chunk.stop, part.start : part.stop] = np.asarray(values).reshape(
                    len(chunk), len(part))
            bar.update(len(chunk) * len(part))
    bar.close()
    return Sweep(settings, [list(seeds_by_setting[s]) for s in settings], ssim, r, inverted, colour,
                 cos if reference is not None else None)


def reconstruct(layers: arch.Layers, seed: int, images: torch.Tensor, device: str = "cpu", **config) -> torch.Tensor:
    """The outputs (on the CPU) of the one random CNN-DCN of ``layers`` drawn from ``seed``, for ``images``."""
    return batched.RandomCNNDCNs(layers, [seed], device=device, **config)(images.to(device))[0].cpu()


def measured_view(output: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """N×H×W: the grayscale, min-maxed outputs that SSIM compared with ``target`` (luminosity inverted where the
    paper's rule inverted it)."""
    inverted = metrics.quality(output, target)[2]
    view = metrics.minmax(metrics.grayscale(output))
    return np.where(inverted[:, None, None], 1.0 - view, view)


def closest_views(result: Sweep, nets: dict, images: torch.Tensor, shown, device: str = "cpu",
                  **config) -> tuple[list[list[np.ndarray]], list[list[float]]]:
    """For each image index of ``shown`` (rows) and each setting of ``result`` (columns): the measured view
    (:func:`measured_view`) of the output whose SSIM is closest to the mean over the networks
    (:meth:`Sweep.closest_to_mean`), recomputed from its seed, and that SSIM (He et al.'s Fig. 10)."""
    views, values = [], []
    for j in shown:
        picks = result.closest_to_mean(j)
        target = images[j : j + 1]
        views.append([measured_view(reconstruct(nets[s], result.seeds[i][picks[i]], target, device, **config),
                                    target)[0] for i, s in enumerate(result.settings)])
        values.append([float(result.ssim[i, picks[i], j]) for i in range(len(result.settings))])
    return views, values


def batching_speed(ch, images: torch.Tensor) -> dict:
    """Outputs per second of the batched program and of the one-network-at-a-time loop
    (:func:`rdcn.he.batched.speed`) on chapter session ``ch``'s Conv1-DeConv1 workload at width ``speed_width``
    (``networks`` networks × ``images``), recorded under ``speed``."""
    width = ch.S.speed_width
    result = batched.speed(width_nets([width])[width], seeds.derive_many(ch.seed, ch.S.networks, "speed"), images,
                           device=ch.device, **variant_config("original"))
    ch.record("speed", dict(width=width, **result))
    return result
