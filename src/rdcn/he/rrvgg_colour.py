"""Positions kept, colours lost (Shu et al. 2017, abstract): the lowest purely random ConvK-DeConvK of VGG16, the
Conv1-DeConv1 of He et al.'s Fig. 7 (conv1_1, conv1_2 at VGG16's 64 channels, then deconv1_2, deconv1_1: ConvK is
block K's output before its pooling), on the held-out photographs, its output's geometry and colour each compared
with the input's (:mod:`rdcn.he.colour_geometry`).

The networks come from ``derive_many(seed, networks, "colour")``. :func:`run` runs and records the sweep;
:class:`ColourStudy` gives the claim's measurements and the figure (:meth:`~ColourStudy.figure`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core import architectures as arch
from ..core import data, figures, seeds
from . import random_reconstruction as rr

#: Fig. 7's lowest network, VGG16's Conv1-DeConv1.
LAYERS = arch.cut(arch.architecture("vgg16"), "conv1")


@dataclass
class ColourStudy:
    """The sweep (one setting, ``networks`` networks) on ``photos``."""

    photos: torch.Tensor
    sweep: rr.Sweep
    device: str

    def measurements(self) -> dict:
        """The measurements of claim ``positions_kept_colours_lost``: per network, the mean over the photographs of
        the grayscale |r| (geometry, read by magnitude as He et al. §4 read r) and of the colour r."""
        return dict(geometry_r=np.abs(self.sweep.r[0]).mean(axis=1), colour_r=self.sweep.per_network("colour_r")[0])

    def numbers(self) -> dict:
        """Everything measured, for the chapter's results."""
        s = self.sweep
        return dict(geometry_r=s.r[0], colour_r=s.colour_r[0], ssim=s.ssim[0], inverted=s.inverted[0],
                    seeds=s.seeds[0])

    def figure(self):
        """Ours: each photograph, the output of the network whose SSIM on it is closest to the mean (in colour,
        stretched, inverted where its grayscale r is negative), and a scatter of every network's colour r against
        its grayscale |r|."""
        import matplotlib.pyplot as plt

        n = len(self.photos)
        fig = plt.figure(figsize=(2.0 * n + 3.6, 4.0))
        grid = fig.add_gridspec(2, n + 2)
        config = rr.variant_config("original")
        for j in range(n):
            pick = self.sweep.closest_to_mean(j)[0]
            out = rr.reconstruct(LAYERS, self.sweep.seeds[0][pick], self.photos[j : j + 1], self.device, **config)
            negative = (self.sweep.r[0, pick, j] < 0) != self.sweep.inverted[0, pick, j]  # its r as it came
            shown = figures.stretch(-out[0] if negative else out[0])
            for row, (image, title) in enumerate(((self.photos[j], "input"), (shown, "random CNN-DCN"))):
                ax = fig.add_subplot(grid[row, j])
                ax.imshow(figures.displayable(image))
                ax.set_title(f"{title}\n|r| {abs(self.sweep.r[0, pick, j]):.2f}, colour r "
                             f"{self.sweep.colour_r[0, pick, j]:.2f}" if row else title, fontsize=8)
                ax.axis("off")
        ax = fig.add_subplot(grid[:, n:])
        m = self.measurements()
        ax.scatter(m["geometry_r"], m["colour_r"], s=14)
        ax.axhline(0, color="k", lw=0.6)
        ax.axvline(0, color="k", lw=0.6)
        ax.set(xlabel="grayscale |r| (geometry)", ylabel="colour r", xlim=(0, 1), ylim=(-1, 1))
        ax.set_title("one point per network\n(mean over the photographs)", fontsize=9)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def values(self) -> dict:
        """The numbers the prose quotes."""
        m = self.measurements()
        return {"colour-geometry-mean": float(np.mean(m["geometry_r"])), "colour-colour-mean":
                float(np.mean(m["colour_r"])), "colour-colour-abs-mean": float(np.mean(np.abs(self.sweep.colour_r)))}


def run(ch) -> ColourStudy:
    """The sweep of chapter session ``ch`` (sizes ``image_size``, ``networks``) on the held-out photographs,
    recorded under ``colour``."""
    photos = data.photos(data.HELD_OUT, ch.S.image_size)
    sweep = rr.sweep({"conv1": LAYERS}, photos, {"conv1": seeds.derive_many(ch.seed, ch.S.networks, "colour")},
                     ch.device, **rr.variant_config("original"))
    study = ColourStudy(photos, sweep, ch.device)
    ch.record("colour", study.numbers())
    return study
