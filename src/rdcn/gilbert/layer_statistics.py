"""Activation density and filter coherence, layer by layer, of a VGG encoder: Gilbert et al. §5, Tables 2 and 4,
and how both move while an encoder learns its task.

- **Activation density** (their Table 2, in % of non-zeros on ILSVRC validation images): the fraction of non-zero
  activations after each conv's ReLU, here per image (:func:`activation_density`).
- **Coherence** (their Table 4, which does not define it): the mutual coherence of each conv's filters
  (:func:`rdcn.gilbert.compressive_sensing.coherence`), with the mean |cosine| beside it (:func:`layer_coherence`).
- **Distance from the start**: ‖W − W₀‖/‖W₀‖ of each conv's filters from their initial values W₀
  (:func:`relative_change`), how far training moved them.

:class:`LayerStatistics` holds the first two for one encoder on some images; the functions below it put an
encoder's statistics in the form the claims' rules read (:func:`density_trend`, :func:`coherence_pairs`), in the
paper's tables (:func:`table2`, :func:`table4`), and along the training (:func:`training_figure`).
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from . import compressive_sensing as cs

#: Gilbert et al. Table 2 (quoted): the fraction of non-zero activations of VGG16 on ILSVRC validation images.
PAPER_DENSITY = {"conv1_1": 0.491, "conv3_3": 0.287, "conv5_3": 0.073}


@torch.no_grad()
def activation_density(encoder: nn.Sequential, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Per conv (``convK_i``), the fraction of non-zero activations after its ReLU on each image of ``x``."""
    density, current = {}, None
    for name, module in encoder.named_children():
        x = module(x)
        if isinstance(module, nn.Conv2d):
            current = name
        elif isinstance(module, (nn.ReLU, nn.LeakyReLU)) and current is not None:
            density[current] = (x > 0).flatten(1).double().mean(1).cpu().numpy()
            current = None
    if not density:
        raise ValueError("the encoder has no convolution followed by a ReLU")
    return density


def _convs(encoder: nn.Module) -> dict[str, nn.Conv2d]:
    convs = {name: m for name, m in encoder.named_modules() if isinstance(m, nn.Conv2d)}
    if not convs:
        raise ValueError("the encoder has no convolution")
    return convs


def layer_coherence(encoder: nn.Module) -> dict[str, dict[str, float]]:
    """Mutual (``max``) and ``mean`` coherence of every conv's filters, by conv name."""
    return {name: dict(max=cs.coherence(m.weight), mean=cs.mean_coherence(m.weight))
            for name, m in _convs(encoder).items()}


@torch.no_grad()
def relative_change(encoder: nn.Module, initial: nn.Module) -> dict[str, float]:
    """‖W − W₀‖/‖W₀‖ of every conv's filters, ``initial`` holding W₀ (the same architecture)."""
    start = _convs(initial)
    out = {}
    for name, m in _convs(encoder).items():
        if name not in start or start[name].weight.shape != m.weight.shape:
            raise ValueError(f"initial must have the encoder's convolutions; {name!r} differs or is missing")
        w0 = start[name].weight.double()
        out[name] = float((m.weight.double() - w0).norm() / w0.norm())
    return out


@dataclass(frozen=True)
class LayerStatistics:
    """One encoder's activation density (per conv, one value per image), coherence and mean coherence (per conv)."""

    density: dict[str, np.ndarray]
    coherence: dict[str, float]
    mean_coherence: dict[str, float]

    @property
    def layers(self) -> list[str]:
        return list(self.coherence)

    def record(self) -> dict:
        return dict(density={k: v.tolist() for k, v in self.density.items()}, coherence=self.coherence,
                    mean_coherence=self.mean_coherence)


def measure(encoder: nn.Sequential, x: torch.Tensor) -> LayerStatistics:
    """The :class:`LayerStatistics` of ``encoder`` on the images ``x``."""
    coherence = layer_coherence(encoder)
    return LayerStatistics(activation_density(encoder, x), {k: v["max"] for k, v in coherence.items()},
                           {k: v["mean"] for k, v in coherence.items()})


def density_trend(statistics: LayerStatistics) -> dict[str, np.ndarray]:
    """The inputs of a trend of density against depth: ``depth`` (1 … L, the convs in order) and ``density``
    (L × images)."""
    density = np.stack([statistics.density[name] for name in statistics.layers])
    return dict(depth=np.arange(1, len(density) + 1), density=density)


def coherence_pairs(learned: LayerStatistics, randoms: list[LayerStatistics]) -> dict[str, np.ndarray]:
    """Per conv layer, the coherence of the ``learned`` encoder and the mean coherence of the ``randoms``
    (encoders of the same architecture): one pair per layer."""
    if not randoms or any(r.layers != learned.layers for r in randoms):
        raise ValueError("randoms must be one or more encoders with the learned encoder's convolutions")
    return dict(learned=np.array([learned.coherence[name] for name in learned.layers]),
                random=np.array([np.mean([r.coherence[name] for r in randoms]) for name in learned.layers]))


def table2(learned: LayerStatistics, random: LayerStatistics) -> list[dict]:
    """Gilbert et al. Table 2 beside ours: the mean density over the images per conv, learned and random."""
    return [{"layer": name, "learned (ours)": f"{learned.density[name].mean():.3f}",
             "random (ours)": f"{random.density[name].mean():.3f}",
             "learned (paper, ImageNet)": PAPER_DENSITY.get(name, "")} for name in learned.layers]


def table4(learned: LayerStatistics, randoms: list[LayerStatistics]) -> list[dict]:
    """Gilbert et al. Table 4's quantity per conv: the coherence (and mean coherence) of the learned filters and
    the mean over the random encoders."""
    def mean(attribute: str, name: str) -> float:
        return float(np.mean([getattr(r, attribute)[name] for r in randoms]))

    return [{"layer": name, "coherence learned": f"{learned.coherence[name]:.3f}",
             "coherence random": f"{mean('coherence', name):.3f}",
             "mean coherence learned": f"{learned.mean_coherence[name]:.3f}",
             "mean coherence random": f"{mean('mean_coherence', name):.3f}"} for name in learned.layers]


def training_figure(snapshots: dict[str, LayerStatistics], random: LayerStatistics):
    """Density (mean over the images) and coherence per conv layer, one line per snapshot of the learned encoder
    (labelled by ``snapshots``' keys) and one for a random encoder."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    series = {**{f"learned, {label}": s for label, s in snapshots.items()}, "random": random}
    for (label, statistics), colour in zip(series.items(), plt.cm.viridis(np.linspace(0, 0.9, len(series)))):
        style = dict(color="grey", linestyle="--") if label == "random" else dict(color=colour)
        layers = statistics.layers
        axes[0].plot(range(1, len(layers) + 1), [statistics.density[n].mean() for n in layers], marker="o",
                     markersize=3, label=label, **style)
        axes[1].plot(range(1, len(layers) + 1), [statistics.coherence[n] for n in layers], marker="o",
                     markersize=3, label=label, **style)
    for ax, ylabel in zip(axes, ("activation density", "coherence (max |cos|)")):
        ax.set_xticks(range(1, len(layers) + 1), [n.removeprefix("conv") for n in layers], rotation=60,
                      fontsize=8)
        ax.set_xlabel("conv layer")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def values(learned: LayerStatistics, randoms: list[LayerStatistics]) -> dict:
    """The numbers the chapter's prose quotes, by glue name."""
    pairs = coherence_pairs(learned, randoms)
    below = [name for name, rand, learn in zip(learned.layers, pairs["random"], pairs["learned"]) if rand < learn]
    not_below = [name for name in learned.layers if name not in below]
    first, last = learned.layers[0], learned.layers[-1]
    random_means = [np.mean([r.density[name].mean() for r in randoms]) for name in learned.layers]
    return {"coherence_count": f"{len(below)} of {len(learned.layers)}",
            "coherence_exceptions": ", ".join(not_below) or "none",
            "coherence_learned_range": f"{pairs['learned'].min():.2f}–{pairs['learned'].max():.2f}",
            "coherence_random_range": f"{pairs['random'].min():.2f}–{pairs['random'].max():.2f}",
            "density_learned_first": float(learned.density[first].mean()),
            "density_learned_last": float(learned.density[last].mean()),
            "density_mean_learned": float(np.mean([learned.density[n].mean() for n in learned.layers])),
            "density_random_range": f"{min(random_means):.2f}–{max(random_means):.2f}",
            "density_mean_random": float(np.mean(random_means))}
