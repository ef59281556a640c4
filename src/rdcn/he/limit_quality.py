"""Ours, beyond He et al. §5: how close §4's max-pooling Conv1-DeConv1 comes to the ℓ2 limit of Theorem 5.1, and
how well that limit itself reconstructs the input (chapter 3's SSIM, :func:`rdcn.core.metrics.ssim`), with the
paper's zero-fill upsampling and with nearest-neighbour upsampling.

The sweeps come from :func:`rdcn.he.finite_width.sweep` (the ℓ2 and the max-pooling variants of one seed share
every filter); this module adds the limits' SSIM and draws the comparison.
"""
from __future__ import annotations

import numpy as np
import torch

from ..core import architectures as arch
from ..core import figures, metrics
from .finite_width import Sweep, loglog_slope, width_axis
from .theory import limit, variant


def limit_ssim(layers: arch.Layers, images: torch.Tensor) -> dict[str, np.ndarray]:
    """SSIM with the input of the ℓ2 limit of ``layers`` with zero-fill (the paper's) and with nearest-neighbour
    upsampling, per image; and the two limits themselves."""
    zero = limit(variant(layers, 1), images)
    nearest = limit(variant(layers, 1, upsample="nearest"), images)
    return dict(zero=metrics.ssim(zero, images), nearest=metrics.ssim(nearest, images), ybar=zero,
                ybar_nearest=nearest)


def comparison_figure(l2: Sweep, max_pooling: Sweep, limits: dict[str, np.ndarray]):
    """Left: the angle of the ℓ2 and the max-pooling variants to the ℓ2 limit. Right: their SSIM with the input
    (mean over images, mean ± std over networks) against the SSIM of the limit with zero-fill and with nearest
    upsampling."""
    import matplotlib.pyplot as plt

    widths = list(l2.widths)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    figures.mean_std_curves(widths, {
        f"{r.label} → ℓ2 limit": ([r.angles["limit"][w].mean() for w in widths],
                                  [r.angles["limit"][w].std() for w in widths])
        for r in (l2, max_pooling)}, "width N", "angle to ȳ (rad)", ax=left, logx=True, logy=True)
    figures.mean_std_curves(widths, {
        r.label: ([r.ssim[w].mean() for w in widths], [r.ssim[w].mean(1).std() for w in widths])
        for r in (l2, max_pooling)}, "width N", "SSIM with the input", ax=right, logx=True)
    right.axhline(limits["zero"].mean(), color="k", ls="--", lw=1, label="ℓ2 limit ȳ (zero-fill)")
    right.axhline(limits["nearest"].mean(), color="gray", ls=":", lw=1.2, label="ℓ2 limit, nearest upsampling")
    right.legend(fontsize=8)
    for ax in (left, right):
        width_axis(ax, widths)
    fig.tight_layout()
    return fig


def images_figure(images: torch.Tensor, l2: Sweep, max_pooling: Sweep, limits: dict[str, np.ndarray]):
    """The first image in grayscale, the ℓ2 limit, the first ℓ2 and max-pooling networks at the widest width (same
    filters), and the limit with nearest upsampling, each min-maxed for display."""
    widest = l2.widest
    row = [metrics.grayscale(images[:1])[0], figures.stretch(limits["ybar"][0, 0]),
           figures.stretch(l2.examples[widest]), figures.stretch(max_pooling.examples[widest]),
           figures.stretch(limits["ybar_nearest"][0, 0])]
    titles = ["input (gray)", "ℓ2 limit ȳ", f"ℓ2 variant, N = {widest}", f"max variant, N = {widest}",
              "ℓ2 limit, nearest up."]
    return figures.image_grid([row], titles=titles, size=2.2)


def values(l2: Sweep, max_pooling: Sweep, limits: dict[str, np.ndarray]) -> dict:
    """The numbers the chapter's prose quotes, and phrases computed from them."""
    widest = l2.widest
    slope_l2 = loglog_slope(l2.angles["limit"])["slope"]
    slope_max = loglog_slope(max_pooling.angles["limit"])["slope"]
    ssim_l2 = {w: float(l2.ssim[w].mean()) for w in l2.widths}
    peak = max(ssim_l2, key=ssim_l2.get)
    at_widest = (ssim_l2[widest], float(max_pooling.ssim[widest].mean()))
    own = float(limits["zero"].mean())
    side = "below" if own < min(at_widest) else "above" if own > max(at_widest) else "between"
    return dict(
        angle_max_widest=float(max_pooling.angles["limit"][widest].mean()), slope_max=slope_max,
        max_slope_text=(f"flatter than the ℓ2 variant's ({slope_l2:.3f})" if slope_max > slope_l2
                        else f"no flatter than the ℓ2 variant's ({slope_l2:.3f})"),
        ssim_limit=own, ssim_nearest=float(limits["nearest"].mean()), ssim_l2_widest=at_widest[0],
        ssim_max_widest=at_widest[1], ssim_peak_width=peak, ssim_peak=ssim_l2[peak], ssim_limit_text=side,
        nearest_text="higher" if limits["nearest"].mean() > limits["zero"].mean() else "not higher")
