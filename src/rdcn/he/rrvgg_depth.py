"""Width versus depth (He et al. §4.1, Fig. 7): purely random ConvK-DeConvK of VGG16 against the simplified
input-ConvK-DeConvK-output nets of the same width and shape, K = 1…5, on the held-out photographs; and (ours) the
same networks with nearest-neighbour upsampling instead of zero-fill, which measures how much of the fall with K
the zero-fill grid accounts for.

Three kinds of network per K (:func:`rdcn.he.random_reconstruction.depth_nets`): ``full``; ``simplified`` — one
conv of ConvK's width at stride 1 and one pooling of 2^(K−1), no pixel discarded (the one Fig. 7 shows here); and
``strided`` — the labelled alternative, one conv at stride 2^(K−1). Each kind and K draws its networks from
``derive_many(seed, depth_networks, "depth", kind, K)``; the zero-fill and the nearest run of a kind share them.

- :func:`run` — the sweeps, recorded in the chapter's results; :class:`DepthStudy` holds them and gives the claims'
  measurements, the figures (:meth:`~DepthStudy.fig7`, :meth:`~DepthStudy.curves`,
  :meth:`~DepthStudy.scale_figure`) and the table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..claims import get as get_claim
from ..claims.rules import Trend
from ..core import data, figures, metrics
from ..core.figures import scale_figure
from . import random_reconstruction as rr

KINDS = ("full", "simplified", "strided")
UPSAMPLINGS = ("zero", "nearest")
LABELS = {"full": "full ConvK-DeConvK", "simplified": "simplified (pooled)", "strided": "simplified, strided (alt.)"}


@dataclass
class DepthStudy:
    """The §4.1 sweeps: ``sweeps[kind, upsample]`` over the blocks K, on ``photos`` (the cat first)."""

    blocks: list[int]
    photos: torch.Tensor
    nets: dict
    sweeps: dict
    device: str

    def per_network(self, kind: str = "full", upsample: str = "zero", metric: str = "ssim") -> np.ndarray:
        """K × networks: each network's mean over the photographs."""
        return self.sweeps[kind, upsample].per_network(metric)

    def falls_with_depth(self) -> dict:
        """The measurements of claim ``ssim_falls_with_depth`` (zero-fill, the paper's networks)."""
        return dict(K=self.blocks, ssim=self.per_network(), r=self.per_network(metric="r"))

    def simplified_matches_full(self, networks: int | None = None) -> dict:
        """The measurements of claim ``simplified_matches_full`` (on the first ``networks`` networks)."""
        sweeps = {k: self.sweeps[k, "zero"] if networks is None else self.sweeps[k, "zero"].subset(networks)
                  for k in ("full", "simplified")}
        return dict(K=self.blocks, full=sweeps["full"].per_network(), simplified=sweeps["simplified"].per_network())

    def nearest_trend(self) -> dict:
        """Ours: the depth trend of the full nets with nearest-neighbour upsampling, by the claim's own rule."""
        verdict = Trend("K", "ssim", "decreasing").decide(dict(K=self.blocks, ssim=self.per_network("full", "nearest")))
        return dict(state=verdict.state, summary=verdict.summary, rho=verdict.statistic)

    def values(self) -> dict:
        """The numbers the prose quotes, and phrases computed from them."""
        full, nearest = self.means("full"), self.means("full", "nearest")
        simple, strided = self.means("simplified"), self.means("strided")
        trend = self.nearest_trend()
        phrase = {"holds": "falls with K", "does not hold": "rises with K", "inconclusive": "shows no clear trend"}
        return {"depth-full-first": full[0],
                "depth-full-last": full[-1], "depth-full-std-first": self.sweeps["full", "zero"].summary()[1][0],
                "depth-nearest-first": nearest[0], "depth-nearest-last": nearest[-1],
                "depth-simplified-first": simple[0], "depth-simplified-last": simple[-1],
                "depth-simplified-r-last": self.means("simplified", metric="r")[-1],
                "depth-simplified-vs-full": "higher" if simple[-1] > full[-1] else "lower",
                "depth-strided-last": strided[-1], "depth-strided-r-last": self.means("strided", metric="r")[-1],
                "depth-nearest-trend": trend["summary"], "depth-nearest-phrase": phrase[trend["state"]],
                "depth-nearest-gain-last": nearest[-1] - full[-1]}

    def scale_counts(self) -> list[int]:
        """Numbers of networks at which :meth:`scale_figure` decides the claim: 2, 3, 5, 10, 20, 30 up to the
        study's own count, and that count."""
        n = len(self.sweeps["full", "zero"].seeds[0])
        return sorted({c for c in (2, 3, 5, 10, 20, 30) if c <= n} | ({n} if n >= 2 else set()))

    def numbers(self) -> dict:
        """Everything measured, for the chapter's results."""
        return {f"{kind}_{up}": dict(K=self.blocks, ssim=s.ssim, r=s.r, inverted=s.inverted, seeds=s.seeds)
                for (kind, up), s in self.sweeps.items()}

    def means(self, kind: str, upsample: str = "zero", metric: str = "ssim") -> np.ndarray:
        """Per K, the mean over networks of the per-network means."""
        return self.per_network(kind, upsample, metric).mean(axis=1)

    def rows(self) -> list[dict]:
        """The table of mean SSIM (and the full net's r) per K, kind and upsampling."""
        return [{"K": k, **{f"{kind} ({up})": f"{self.means(kind, up)[i]:.3f}" for kind in KINDS
                            for up in UPSAMPLINGS}, "full r (zero)": f"{self.means('full', metric='r')[i]:.3f}"}
                for i, k in enumerate(self.blocks)]

    def fig7(self):
        """He et al.'s Fig. 7: the cat through the first network of each K, full (rows 1-2) and simplified (rows
        3-4), in colour (stretched) and as the grayscale view SSIM compared (inverted where the rule says so)."""
        cat = self.photos[:1]
        rows, titles, labels = [], [], []
        for kind in ("full", "simplified"):
            colour, gray, names = [cat[0]], [metrics.grayscale(cat)[0]], ["input"]
            sweep = self.sweeps[kind, "zero"]
            for i, k in enumerate(self.blocks):
                out = rr.reconstruct(self.nets[kind][k], sweep.seeds[i][0], cat, self.device,
                                     **rr.variant_config("original"))
                colour.append(figures.stretch(out[0]))
                gray.append(rr.measured_view(out, cat)[0])
                names.append(f"Conv{k}: SSIM {sweep.ssim[i, 0, 0]:.2f}")
            rows += [colour, gray]
            titles += [names, [""] * len(names)]
            labels += [LABELS[kind], "grayscale"]
        return figures.image_grid(rows, titles, row_labels=labels, size=1.9)

    def curves(self):
        """Ours: mean SSIM against K (± the 95 % t interval over networks) for each kind, (a) with zero-fill
        upsampling (the paper's networks) and (b) with nearest-neighbour upsampling (the same networks)."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
        for ax, up, title in zip(axes, UPSAMPLINGS, ("(a) zero-fill upsampling (the paper's)",
                                                      "(b) nearest-neighbour upsampling (ours)")):
            for shift, kind in zip((-0.08, 0.0, 0.08), KINDS):  # side by side, so the intervals do not overlap
                sweep = self.sweeps[kind, up]
                ax.errorbar(np.add(self.blocks, shift), sweep.summary()[0], yerr=sweep.half_width(), marker="o",
                            ms=3, capsize=3, label=LABELS[kind])
            ax.set(xlabel="K (ConvK)", title=title, xticks=self.blocks, ylim=(0, 1))
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("SSIM (mean over networks)")
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        return fig

    def scale_figure(self, counts):
        """The statistic of claim ``simplified_matches_full`` (the SSIM difference full − simplified at the K whose
        interval reaches farthest from 0, with that 95 % interval) against the number of networks per K, with the
        claim's ±margin."""
        rule = get_claim("simplified_matches_full").rule
        verdicts = [rule.decide(self.simplified_matches_full(n)) for n in counts]
        return scale_figure("networks per K and kind", counts, verdicts, "full − simplified SSIM (worst K)",
                            (-rule.margin, rule.margin), tick_labels=[str(n) for n in counts])


def run(ch) -> DepthStudy:
    """The §4.1 sweeps of chapter session ``ch`` (its sizes ``depth_size``, ``depth_width``, ``depth_networks``,
    its seed and device), recorded under ``depth`` in its results."""
    S = ch.S
    photos = data.photos(data.HELD_OUT, S.depth_size)
    nets = rr.depth_nets(S.depth_width)
    blocks = list(nets["full"])
    sweeps = {}
    for kind in KINDS:
        seeds = rr.setting_seeds(ch.seed, S.depth_networks, blocks, "depth", kind)
        for up in UPSAMPLINGS:
            sweeps[kind, up] = rr.sweep(nets[kind], photos, seeds, ch.device,
                                        **rr.variant_config("original", upsample=up))
    study = DepthStudy(blocks, photos, nets, sweeps, ch.device)
    ch.record("depth", study.numbers())
    return study
