"""He et al. §2 (Shu et al. §2), the book's chapter 1: the CNN-DCN's layer tables, Table 1, the four random
distributions of §2.2 as the initializer draws them, and a first purely random Conv1-DeConv1.

- :func:`layer_tables` — every layer of VGG16's and AlexNet's Conv5-DeConv5 with its output shape (§2.1, Fig. 1);
- :func:`table1` — VGG16's feature maps on a 227×227 input beside the paper's Table 1 (:data:`PAPER_TABLE_1`);
- :func:`draw_distributions` — draws from :func:`rdcn.core.random_weights.randomize_` into a convolution, each
  distribution tested against its own (Kolmogorov–Smirnov, :data:`KS_LEVEL`); :func:`distributions_figure`;
- :func:`random_conv1` — every embedded photograph through its own purely random VGG16 Conv1-DeConv1 (§4's setting:
  Gaussian σ = 0.015, ReLU, no training), Pearson |r| and SSIM of each output with its input and with the closest
  other photograph (the replicates of the claim that geometry survives); :func:`random_conv1_figure`.
"""
from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats
from torch import nn
from tqdm.auto import tqdm

from ..claims.rules import PairedDifference
from ..core import architectures, checks, data, figures, metrics, seeds
from ..core import random_weights as rw

#: He et al., Table 1 (quoted): channels, shape and dimension of VGG16's feature maps on a 227×227 input.
PAPER_TABLE_1 = {
    "data": (3, (227, 227), 154_587),
    "conv1": (64, (227, 227), 3_297_856),
    "conv2": (128, (114, 114), 1_663_488),
    "conv3": (256, (57, 57), 831_744),
    "conv4": (512, (29, 29), 430_592),
    "conv5": (512, (15, 15), 115_200),
}
#: Each distribution's Kolmogorov–Smirnov test runs at 0.001/4: a correct initializer fails one of the four with
#: probability at most 0.001 (Bonferroni).
KS_LEVEL = 0.001 / len(rw.DISTRIBUTIONS)
ARCHITECTURES = ("vgg16", "alexnet")


def layer_tables(size: int) -> dict[str, list[dict]]:
    """For each architecture, every layer of its Conv5-DeConv5 (activations left out) with the shape it outputs on
    a ``size``×``size`` input, computed by running the model on the meta device."""
    checks.positive_int("size", size)
    tables = {}
    for architecture in ARCHITECTURES:
        model = architectures.cnn_dcn(architectures.cut(architectures.architecture(architecture), "conv5"))
        rows = architectures.cnn_dcn_table(model, size)
        tables[architecture] = [dict(r, shape=" × ".join(map(str, r["shape"]))) for r in rows
                                if not r["layer"].endswith("_act")]
    return tables


def table1(size: int = 227) -> tuple[list[dict], bool]:
    """VGG16's channels, shape and dimension at the input and at Conv1–Conv5 on a ``size`` input, each row beside
    the paper's Table 1 entry; and whether every entry equals the paper's."""
    checks.positive_int("size", size)
    rows, matches = [], True
    for row in architectures.feature_table(architectures.architecture("vgg16"), size):
        ours = (row["channels"], tuple(row["shape"]), row["dimension"])
        paper = PAPER_TABLE_1[row["layer"]]
        matches &= ours == paper
        rows.append(dict(layer=row["layer"], channels=row["channels"], shape=" × ".join(map(str, row["shape"])),
                         dimension=row["dimension"],
                         **{"Table 1": f"{paper[0]} × {paper[1][0]} × {paper[1][1]} = {paper[2]:,}"}))
    return rows, matches


@dataclass
class Draws:
    """The weights :func:`rdcn.core.random_weights.randomize_` wrote, per distribution, and their tests."""

    samples: dict[str, np.ndarray]
    ks_statistic: list[float]
    ks_critical: list[float]
    ks_pvalue: list[float]

    def rows(self) -> list[dict]:
        """One row per distribution: moments against the distribution's, the KS statistic against its critical
        value (the table beside the figure)."""
        out = []
        for i, (name, sample) in enumerate(self.samples.items()):
            reference = rw.scipy_distribution(name)
            out.append({"distribution": name, "mean": f"{sample.mean():.1e}", "std": f"{sample.std(ddof=1):.5f}",
                        "its std": f"{reference.std():.5f}", "KS D": f"{self.ks_statistic[i]:.4f}",
                        f"D at α = {KS_LEVEL:.2g}": f"{self.ks_critical[i]:.4f}",
                        "p-value": f"{self.ks_pvalue[i]:.3f}"})
        return out


def draw_distributions(draws: int, seed: int) -> Draws:
    """``draws`` weights per distribution, written by ``randomize_`` into one convolution (its own generator per
    distribution, from ``seed``), each tested against its distribution: the Kolmogorov–Smirnov statistic D, the
    critical value of D at :data:`KS_LEVEL` for ``draws`` points (Kolmogorov's distribution) and the p-value."""
    checks.positive_int("draws", draws)
    conv = nn.Conv2d(math.ceil(draws / 9), 1, 3)  # at least `draws` weights
    samples, statistic, critical, pvalue = {}, [], [], []
    for name in rw.DISTRIBUTIONS:
        rw.randomize_(conv, name, seeds.generator(seed, "preliminaries", "distribution", name))
        sample = conv.weight.detach().flatten()[:draws].double().numpy().copy()
        test = stats.kstest(sample, rw.scipy_distribution(name).cdf)
        samples[name] = sample
        statistic.append(float(test.statistic))
        critical.append(float(stats.kstwo(draws).isf(KS_LEVEL)))
        pvalue.append(float(test.pvalue))
    return Draws(samples, statistic, critical, pvalue)


def distributions_figure(result: Draws):
    """Each distribution's density (line) over a histogram of the weights drawn (2 × 2 panels)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(8, 5), sharey=False)
    for ax, (name, sample) in zip(axes.flat, result.samples.items()):
        reference = rw.scipy_distribution(name)
        grid = np.linspace(-4 * reference.std(), 4 * reference.std(), 400)
        ax.hist(sample, bins=100, range=(grid[0], grid[-1]), density=True, alpha=0.5, label="drawn")
        ax.plot(grid, reference.pdf(grid), "k", lw=1.2, label="density")
        parameters = ", ".join(f"{k} = {v:.4g}" for k, v in rw.parameters(name).items())
        ax.set_title(f"{name} ({parameters})", fontsize=10)
        ax.set_yticks([])
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
        ax.tick_params(labelsize=9)
    axes.flat[0].legend(fontsize=9)
    fig.tight_layout()
    return fig


@dataclass
class RandomConv1:
    """Each photograph through its own random Conv1-DeConv1: the outputs, and for each the paper's two §4 measures
    with its own input and with the closest other photograph — Pearson |r| (the paper's measure of geometry) and
    SSIM (its measure for trends)."""

    names: tuple[str, ...]
    inputs: torch.Tensor
    outputs: torch.Tensor
    r_input: np.ndarray
    r_best_other: np.ndarray
    ssim_input: np.ndarray
    ssim_best_other: np.ndarray
    inverted: np.ndarray

    def ssim_verdict(self):
        """Whether SSIM, too, tells each output's own input from the other photographs (the paired rule of the
        geometry claim, applied to SSIM)."""
        return PairedDifference("ssim_input", "ssim_best_other", alternative="greater").decide(
            dict(ssim_input=self.ssim_input, ssim_best_other=self.ssim_best_other))


def random_conv1(size: int, width: float, seed: int, device: str = "cpu") -> RandomConv1:
    """Every embedded photograph (:data:`rdcn.core.data.PHOTOS`, centre square at ``size`` px) through its own
    purely random VGG16 Conv1-DeConv1 (width multiplier ``width``; every weight Gaussian σ = 0.015, zero biases,
    ReLU after every layer but the last: He et al. §4's setting; network seed from ``seed`` and the photograph's
    name); |r| and SSIM by the paper's rule (:func:`rdcn.core.metrics.quality`) with its own input and with every
    other photograph, of which the closest (by each measure) is kept."""
    checks.positive_int("size", size)
    checks.positive_number("width", width)
    names = data.photo_names("all")
    inputs = data.photos(names, size)
    layers = architectures.cut(architectures.architecture("vgg16", width=width), "conv1")
    outputs = []
    with torch.no_grad():
        for name, image in tqdm(list(zip(names, inputs)), desc="random Conv1-DeConv1", leave=False):
            net = architectures.cnn_dcn(layers, "relu", "relu")
            rw.randomize_(net, "gaussian", seeds.generator(seed, "preliminaries", "random_conv1", name))
            outputs.append(net.to(device)(image[None].to(device)).cpu()[0])
    outputs = torch.stack(outputs)
    ssim_input, r_input, inverted = metrics.quality(outputs, inputs)
    ssim_other, r_other = np.empty(len(names)), np.empty(len(names))
    for i in range(len(names)):
        others = torch.cat([inputs[:i], inputs[i + 1:]])
        ssim, r, _ = metrics.quality(outputs[i : i + 1].expand(len(others), -1, -1, -1), others)
        ssim_other[i], r_other[i] = ssim.max(), np.abs(r).max()
    return RandomConv1(names, inputs, outputs, np.abs(r_input), r_other, ssim_input, ssim_other, inverted)


def random_conv1_figure(result: RandomConv1):
    """Rows: the photographs, the random Conv1-DeConv1's outputs (min-maxed to [0, 1]) and their grayscale (its
    luminosity inverted where the paper's rule says so); under each column the output's |r| with its input and
    with the closest other photograph."""
    gray = metrics.minmax(metrics.grayscale(result.outputs))
    gray = np.where(result.inverted[:, None, None], 1 - gray, gray)
    rows = [list(result.inputs), [figures.stretch(o) for o in result.outputs], list(gray)]
    titles = [textwrap.fill(re.sub(r"(\w{6})(\w{8,})", r"\1-\n\2", name.replace("_", " ")), 12,
                            break_long_words=False) for name in result.names]  # long words hyphenated
    fig = figures.image_grid(rows, titles=titles, row_labels=["input", "output", "grayscale"], size=1.0)
    for ax, own, other in zip(fig.axes[-len(result.names):], result.r_input, result.r_best_other):
        ax.set_xlabel(f"|r| {own:.2f}\nother ≤ {other:.2f}", fontsize=8)
    for ax in fig.axes:
        ax.title.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
    fig.tight_layout()
    return fig
