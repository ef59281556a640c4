"""The number of random channels (He et al. §4.2, Figs. 8-10): rrVGG Conv1-DeConv1 with N channels in every layer,
the original (last layer a random conv) and the variant of Definition 5.1 (last layer the mean over channels); and
(ours) the variant with ℓ2 pooling held against its infinite-width limit ȳ (Theorem 5.1, :func:`rdcn.he.theory.limit`).

The images are chapter 4's choice (:func:`rdcn.core.data.test_images`). The original draws its networks from
``derive_many(seed, networks, "width", "original", N)``, the variant from ``(…, "width", "variant", N)`` — the same
filters for its max-pooling and its ℓ2-pooling runs, so those two are paired network by network.

- :func:`run` — the three sweeps and the limit, recorded in the chapter's results; :class:`WidthStudy` gives the
  claims' measurements, the figures (:meth:`~WidthStudy.fig8_9`, :meth:`~WidthStudy.fig10`,
  :meth:`~WidthStudy.limit_figure`) and the numbers the prose quotes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..claims import get as get_claim
from ..core import architectures as arch
from ..core import figures, metrics
from ..core.figures import scale_figure
from . import random_reconstruction as rr
from .finite_width import width_axis
from .theory import limit, variant

#: The sweeps: name → (seed key, variant_config arguments).
NETWORKS = {"original": ("original", dict(variant="original")),
            "variant": ("variant", dict(variant="variant")),
            "variant-l2": ("variant", dict(variant="variant", pooling="l2"))}


@dataclass
class WidthStudy:
    """The §4.2 sweeps (``sweeps[name]`` for each of :data:`NETWORKS`) on ``images``, and the limit ȳ's quality."""

    widths: list[int]
    images: torch.Tensor
    nets: dict
    sweeps: dict
    limit_ssim: np.ndarray
    limit_r: np.ndarray
    device: str

    def rises(self) -> dict:
        """The measurements of claim ``variant_ssim_rises_with_width``."""
        return dict(N=self.widths, ssim=self.sweeps["variant"].per_network(),
                    r=self.sweeps["variant"].per_network("r"))

    def more_apparent(self) -> dict:
        """The measurements of claim ``variant_trend_more_apparent``."""
        return dict(N=self.widths, variant=self.sweeps["variant"].per_network(),
                    original=self.sweeps["original"].per_network())

    def spread(self) -> dict:
        """The measurements of claim ``variant_spread_shrinks``."""
        return dict(N=self.widths, deviation=self.sweeps["variant"].deviations(),
                    std=self.sweeps["variant"].summary()[1])

    def spread_scale_figure(self):
        """The statistic of claim ``variant_spread_shrinks`` (Spearman's ρ with its 95 % interval) decided on the
        widths from the smallest up to each larger N: the knob the book's scale limits."""
        rule = get_claim("variant_spread_shrinks").rule
        deviations, ends = self.sweeps["variant"].deviations(), self.widths[1:]
        verdicts = [rule.decide(dict(N=self.widths[: i + 2], deviation=deviations[: i + 2])) for i in range(len(ends))]
        return scale_figure(f"largest N of the range {self.widths[0]}…N", ends, verdicts, "Spearman ρ of the spread",
                            (-1.0, 0.0), logx=True, tick_labels=[str(n) for n in ends])

    def numbers(self) -> dict:
        """Everything measured, for the chapter's results."""
        found = {name: dict(N=self.widths, ssim=s.ssim, r=s.r, inverted=s.inverted, seeds=s.seeds,
                            **({} if s.cosine is None else dict(cosine_to_limit=s.cosine)))
                 for name, s in self.sweeps.items()}
        return dict(found, limit=dict(ssim=self.limit_ssim, r=self.limit_r))

    def values(self) -> dict:
        """The numbers the prose quotes, and phrases computed from them."""
        l2, mx = self.sweeps["variant-l2"], self.sweeps["variant"]
        ssim_l2, (ssim_max, std_max), (ssim_orig, std_orig) = l2.summary()[0], mx.summary(), \
            self.sweeps["original"].summary()
        widest_l2, half = l2.per_network()[-1], l2.half_width()[-1]
        low, high = widest_l2.mean() - half, widest_l2.mean() + half
        limit_ssim = float(self.limit_ssim.mean())
        gap = mx.per_network() - l2.per_network()  # paired: the same filters
        cos_l2, cos_max = l2.per_network("cosine").mean(1), mx.per_network("cosine").mean(1)
        vgg = int(np.argmin([abs(n - 64) for n in self.widths]))  # VGG16's own Conv1 width, or the nearest N
        original = self.sweeps["original"]
        return {
            "vgg-width": self.widths[vgg], "original-vgg-r": np.abs(original.r[vgg]).mean(),
            "original-vgg-colour-r": original.per_network("colour_r")[vgg].mean(),
            "width-first": self.widths[0], "width-last": self.widths[-1],
            "variant-first": ssim_max[0], "variant-last": ssim_max[-1], "variant-std-first": std_max[0],
            "variant-std-last": std_max[-1], "original-first": ssim_orig[0], "original-last": ssim_orig[-1],
            "original-std-first": std_orig[0], "original-std-last": std_orig[-1],
            "l2-last": ssim_l2[-1], "l2-last-low": low, "l2-last-high": high,
            "limit-ssim": limit_ssim,
            "limit-vs-l2": ("inside" if low <= limit_ssim <= high else "above" if limit_ssim > high else "below"),
            "max-minus-l2": float(gap.mean()),
            "cos-l2-first": cos_l2[0], "cos-l2-last": cos_l2[-1], "cos-max-first": cos_max[0],
            "cos-max-last": cos_max[-1],
            "cos-l2-phrase": "rises" if cos_l2[-1] > cos_l2[0] else "does not rise",
        }

    def fig8_9(self):
        """He et al.'s Figs. 8-9: mean ± std over networks of the per-network mean SSIM and r against N, (a) the
        original, (b) the variant (max pooling, as in §4)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
        for ax, (letter, name) in zip(axes, (("a", "original"), ("b", "variant"))):
            result = self.sweeps[name]
            figures.mean_std_curves(self.widths, {"SSIM": result.summary("ssim"), "Pearson r": result.summary("r")},
                                    "number of channels N", "quality", ax=ax, logx=True, title=f"({letter}) {name}")
            width_axis(ax, self.widths)
        return fig

    def fig10(self, shown: int):
        """He et al.'s Fig. 10: for the first ``shown`` images, per N the output whose SSIM is closest to the mean
        SSIM over the networks (original and variant rows), with that SSIM."""
        rows, titles, labels = [], [], []
        for j in range(min(shown, len(self.images))):
            for name in ("original", "variant"):
                _, config = NETWORKS[name]
                views, values = rr.closest_views(self.sweeps[name], self.nets, self.images, [j], self.device,
                                                 **rr.variant_config(**config))
                rows.append([metrics.grayscale(self.images[j : j + 1])[0]] + views[0])
                titles.append(["input"] + [f"N={n}: {s:.2f}" for n, s in zip(self.widths, values[0])])
                labels.append(f"image {j + 1}, {name}")
        return figures.image_grid(rows, titles, row_labels=labels, size=1.45)

    def limit_figure(self):
        """Ours: (a) the variant's SSIM against N with max and with ℓ2 pooling (same filters; mean ± std over
        networks) and the SSIM of the ℓ2 limit ȳ; (b) the cosine of their outputs to ȳ."""
        import matplotlib.pyplot as plt

        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
        names = {"variant": "variant, max pooling", "variant-l2": "variant, ℓ2 pooling"}
        figures.mean_std_curves(self.widths, {label: self.sweeps[n].summary() for n, label in names.items()},
                                "number of channels N", "SSIM", ax=left, logx=True, title="(a) SSIM with the input")
        left.axhline(self.limit_ssim.mean(), color="k", ls="--", lw=1, label="ℓ2 limit ȳ")
        left.legend(fontsize=8)
        figures.mean_std_curves(self.widths, {label: self.sweeps[n].summary("cosine") for n, label in names.items()},
                                "number of channels N", "cosine to ȳ", ax=right, logx=True,
                                title="(b) cosine of the output to ȳ")
        for ax in (left, right):
            width_axis(ax, self.widths)
        fig.tight_layout()
        return fig


def run(ch, images: torch.Tensor) -> WidthStudy:
    """The §4.2 sweeps of chapter session ``ch`` (sizes ``widths``, ``networks``) on ``images``, with the ℓ2
    limit ȳ of the Conv1-DeConv1 variant as the reference of the variants' cosines; recorded under ``width``."""
    S = ch.S
    nets = rr.width_nets(S.widths)
    widths = list(nets)
    ybar = limit(variant(arch.cut(arch.architecture("vgg16"), "pool1"), 1, "l2"), images).float()
    limit_ssim, limit_r, _ = metrics.quality(ybar, images)
    sweeps = {}
    for name, (key, config) in NETWORKS.items():
        seeds = rr.setting_seeds(ch.seed, S.networks, widths, "width", key)
        reference = None if name == "original" else ybar
        sweeps[name] = rr.sweep(nets, images, seeds, ch.device, reference=reference, **rr.variant_config(**config))
    study = WidthStudy(widths, images, nets, sweeps, limit_ssim, limit_r, ch.device)
    ch.record("width", study.numbers())
    return study
