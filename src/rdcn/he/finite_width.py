"""Random variants of finite width against their infinite-width limit (He et al. §5.2, Theorems 5.2 and 5.3).

:func:`outputs` draws ``networks`` random variants (Definition 5.1) per width, every conv ``width`` channels wide,
and runs them on a batch of images as one tensor program (:mod:`rdcn.he.batched`); the outputs come back in the
paper's normalisation (:func:`rdcn.he.theory.paper_normalised`), so that they converge to
:func:`rdcn.he.theory.limit`'s ȳ. :func:`sweep` keeps, per width, what the chapter measures of them — each
output's angle to one or more limits, optionally its SSIM with the input — and :func:`loglog_slope` fits log angle
against log N: Theorems 5.2/5.3 predict an angle of order 1/√N, a slope of −1/2.

Network i at width N of an architecture draws its weights from :func:`network_seeds` (the run's seed through
:func:`rdcn.core.seeds.derive_many`, keyed by the architecture and N): the same networks for every pooling and
distribution key, so an ℓ2-, an average- and a max-pooling variant of one seed share every filter.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from ..core import architectures as arch
from ..core import checks, figures, metrics, seeds
from ..core import random_weights as rw
from . import batched
from .theory import angle, cosine, paper_normalised

#: Ours: the small-angle regime in which the chapter fits the rate, where the two-layer net's expected squared
#: relative error (c₂/c₁² − 1)/N = (π − 1)/N (Theorem 5.2's proof) is at most this.
SMALL_ANGLE_ERROR = 0.1


def architecture_key(layers: arch.Layers) -> str:
    """A name for the architecture of ``layers`` that does not depend on its widths (the seeds' key)."""
    return "-".join(f"{layer.name}:{layer.kernel}/{layer.stride}" for layer in layers)


def network_seeds(seed: int, layers: arch.Layers, width: int, networks: int) -> list[int]:
    """The seeds of the ``networks`` variants of ``layers`` at ``width`` in a run seeded ``seed``."""
    return seeds.derive_many(seed, networks, "variant", architecture_key(layers), width)


def outputs(layers: arch.Layers, widths: Sequence[int], networks: int, images: torch.Tensor, seed: int = 0,
            pooling: str = "l2", distribution: str = "gaussian", device: str = "cpu",
            params: dict | None = None) -> dict[int, torch.Tensor]:
    """Outputs of ``networks`` random variants of ``layers`` per width (every conv ``width`` wide, ``pooling``,
    zero-fill upsampling, the mean over channels last, 1/√N scaling) on ``images`` (M × C × H × W):
    width → networks × M × 1 × H × W float64 on the CPU, in the paper's normalisation."""
    checks.positive_int("networks", networks)
    checks.positive_ints("widths", widths)
    config = dict(pooling=pooling, upsample="zero", last="mean", width_scaling=True)
    result = {}
    for width in widths:
        wide = arch.same_width(layers, width)
        out = torch.empty(networks, len(images), 1, *images.shape[-2:], dtype=torch.float64)
        for nets, imgs, y in batched.outputs(wide, network_seeds(seed, layers, width, networks), images,
                                             distribution, device, params=params, **config):
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
    """Least-squares fit of log(angle) on log(N) over every point given: slope, its standard error, intercept
    (scipy.stats.linregress)."""
    x = np.concatenate([np.full(np.size(a), np.log(w)) for w, a in angles_by_width.items()])
    y = np.concatenate([np.log(np.asarray(a, float).ravel()) for a in angles_by_width.values()])
    if len(set(x)) < 2:
        raise ValueError("a slope needs angles at two widths at least")
    fit = stats.linregress(x, y)
    return dict(slope=float(fit.slope), stderr=float(fit.stderr), intercept=float(fit.intercept))


def small_angle_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """The widths of the small-angle regime (:data:`SMALL_ANGLE_ERROR`): (π − 1)/N ≤ 0.1, i.e. N ≥ 22."""
    return tuple(w for w in widths if (math.pi - 1) / w <= SMALL_ANGLE_ERROR)


@dataclass
class Sweep:
    """What :func:`sweep` keeps of the variants of one architecture and pooling: per target limit and width the
    networks × images angles; per width the networks × images SSIM (if asked), the first network's output on the
    first image, and at the widest width the mean output over the networks (a Monte Carlo of E y)."""

    label: str
    widths: tuple[int, ...]
    angles: dict[str, dict[int, np.ndarray]]
    scaled_error: dict[int, np.ndarray]  # N‖y − ȳ‖²/‖ȳ‖² to the first target, networks × images
    examples: dict[int, torch.Tensor]
    widest_mean: torch.Tensor
    ssim: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def widest(self) -> int:
        return max(self.widths)

    def per_network(self, target: str = "limit", widths: Sequence[int] | None = None) -> np.ndarray:
        """Mean angle over the images, per network: widths × networks (replicates for the claims)."""
        widths = self.widths if widths is None else tuple(widths)
        networks = len(self.angles[target][self.widths[0]])
        return np.array([self.angles[target][w].mean(1) for w in widths]).reshape(len(widths), networks)

    def cosines(self, target: str = "limit") -> dict[int, np.ndarray]:
        return {w: np.cos(a) for w, a in self.angles[target].items()}

    def record(self) -> dict:
        """The numbers the chapter stores: per target and width, mean and std of the angles and of the cosines."""
        summary = {t: {str(w): dict(angle_mean=a.mean(), angle_std=a.std(), cos_mean=np.cos(a).mean(),
                                    cos_min=np.cos(a).min()) for w, a in by_width.items()}
                   for t, by_width in self.angles.items()}
        if self.ssim:
            summary["ssim"] = {str(w): dict(mean=s.mean(), std=s.mean(1).std()) for w, s in self.ssim.items()}
        return summary


def sweep(label: str, layers: arch.Layers, widths: Sequence[int], networks: int, images: torch.Tensor,
          targets: dict[str, torch.Tensor], seed: int = 0, pooling: str = "l2", device: str = "cpu",
          ssim: bool = False) -> Sweep:
    """Run the variants of ``layers`` (see :func:`outputs`) width by width and keep their angles to each of
    ``targets`` (name → M × 1 × H × W limit), and, if ``ssim``, their SSIM with ``images`` (chapter 3's metric:
    :func:`rdcn.core.metrics.ssim`)."""
    checks.positive_ints("widths", widths)
    checks.positive_int("networks", networks)
    if not targets:
        raise ValueError("targets must name at least one limit (name → M × 1 × H × W tensor), got none")
    found = {name: {} for name in targets}
    examples, scores, errors, mean = {}, {}, {}, None
    first = next(iter(targets.values()))
    for width in tqdm(widths, desc=label, leave=False):
        y = outputs(layers, (width,), networks, images, seed, pooling, device=device)[width]
        for name, ybar in targets.items():
            found[name][width] = angles({width: y}, ybar)[width]
        errors[width] = (width * ((y - first) ** 2).sum((2, 3, 4)) / (first**2).sum((1, 2, 3))).numpy()
        examples[width] = y[0, 0, 0]
        if ssim:
            target = images.repeat(networks, 1, 1, 1)
            scores[width] = metrics.ssim(y.flatten(0, 1), target).reshape(networks, len(images))
        if width == max(widths):
            mean = y.mean(0)
    return Sweep(label, tuple(widths), found, errors, examples, mean, scores)


def convergence_values(result: Sweep, ybar: torch.Tensor) -> dict:
    """The numbers of the chapter's Theorem 5.1 paragraph: the widest width, the cosine to ȳ there (mean and
    lowest) and the cosine of the networks' mean output to ȳ (lowest over the images)."""
    cosines = result.cosines()[result.widest]
    return dict(widest=result.widest, cos_widest=float(cosines.mean()), cos_widest_min=float(cosines.min()),
                cos_average=float(cosine(result.widest_mean, ybar).min()))


def cosine_by_distribution(layers: arch.Layers, result: Sweep, networks: int, images: torch.Tensor,
                           ybar: torch.Tensor, seed: int = 0, device: str = "cpu") -> dict[str, np.ndarray]:
    """cos(y, ȳ) at ``result``'s widest width of ``networks`` variants per distribution of §2.2 (each
    networks × images), against the same ȳ; the Gaussian ones are ``result``'s first networks."""
    width = result.widest
    found = {"gaussian": result.cosines()[width][:networks]}
    for name in list(rw.DISTRIBUTIONS)[1:]:
        y = outputs(layers, (width,), networks, images, seed, "l2", name, device)[width]
        found[name] = np.cos(angles({width: y}, ybar)[width])
    return found


def distribution_rows(cosines: dict[str, np.ndarray]) -> list[dict]:
    """The table of :func:`cosine_by_distribution`."""
    return [{"distribution": name, "networks": len(c), "mean cos(y, ȳ)": f"{c.mean():.4f}", "min": f"{c.min():.4f}"}
            for name, c in cosines.items()]


def bound_exceedance(result: Sweep, bound: dict[int, np.ndarray]) -> dict:
    """Per network, the share of images whose angle exceeds ``bound`` (width → bound per image, or one number), at
    the widths where the bound is below π/2 on every image (elsewhere no angle of non-negative images can exceed
    it): ``exceeded`` (widths × networks) and those ``widths``, ready for the bound claims."""
    informative = tuple(w for w in result.widths if np.all(np.asarray(bound[w]) < math.pi / 2))
    networks = len(result.angles["limit"][result.widths[0]])
    shares = [(result.angles["limit"][w] > np.asarray(bound[w])).mean(1) for w in informative]
    return dict(exceeded=np.array(shares).reshape(len(informative), networks), widths=informative)


def rate_values(two: Sweep, multi: Sweep, bound_two: dict[int, float], bound_multi: dict[int, np.ndarray]) -> dict:
    """The numbers of the chapter's Theorems 5.2/5.3 paragraphs: slopes over every width (the claims fit the
    small-angle regime only), Theorem 5.2's exact moment N E‖y − ȳ‖²/‖ȳ‖² = π − 1 measured (per network, images
    averaged, all widths pooled), and how far each bound lies above the mean angle at the widest width."""
    errors = np.concatenate([two.scaled_error[w].mean(1) for w in two.widths])
    se = errors.std(ddof=1) / math.sqrt(len(errors)) if len(errors) > 1 else math.nan
    angle_two, angle_multi = (float(r.angles["limit"][r.widest].mean()) for r in (two, multi))
    return dict(
        two_regime_widths=", ".join(map(str, small_angle_widths(two.widths))) or "none",
        regime_widths=", ".join(map(str, small_angle_widths(multi.widths))) or "none",
        two_networks=len(two.angles["limit"][two.widest]), two_widest=two.widest,
        slope_two_all=loglog_slope(two.angles["limit"])["slope"],
        slope_l2_all=loglog_slope(multi.angles["limit"])["slope"],
        sq_err_mean=float(errors.mean()), sq_err_se=float(se), sq_err_median=float(np.median(errors)),
        sq_err_n=len(errors), sq_err_z=float(abs(errors.mean() - (math.pi - 1)) / se),
        angle_two_widest=angle_two, angle_widest=angle_multi,
        bound_two_widest=float(bound_two[two.widest]), bound_multi_widest=float(np.max(bound_multi[multi.widest])),
        bound_ratio=float(bound_two[two.widest]) / angle_two,
        bound_multi_ratio=float(np.max(bound_multi[multi.widest])) / angle_multi)


def average_pooling_values(result: Sweep, limits: dict[str, torch.Tensor]) -> dict:
    """The numbers of the chapter's Theorem A.7 paragraph: the rate to the own limit, the cosine between the
    average-pooling and the ℓ2 limits (lowest over the images), and the angles at the widest width."""
    widest = result.widest
    own, l2 = float(result.angles["limit"][widest].mean()), float(result.angles["l2"][widest].mean())
    return dict(slope_avg=loglog_slope(result.angles["limit"])["slope"],
                cos_avg_l2=float(cosine(limits["limit"], limits["l2"]).min()), angle_avg_own=own, angle_avg_l2=l2,
                avg_closer_text=("farther than from their own limit" if l2 > own
                                 else "no farther than from their own limit"))


def width_axis(ax, widths: Sequence[int]) -> None:
    """Label a log width axis with the widths themselves."""
    ax.set_xticks(list(widths), [str(w) for w in widths])
    ax.minorticks_off()


def limit_images_figure(images: torch.Tensor, ybar: torch.Tensor, result: Sweep):
    """The first image in grayscale, its limit ȳ, and the first network's output at each width with its cosine to
    ȳ, each min-maxed for display."""
    cosines = result.cosines()
    row = [metrics.grayscale(images[:1])[0], figures.stretch(ybar[0, 0])]
    row += [figures.stretch(result.examples[w]) for w in result.widths]
    titles = ["input (gray)", "limit ȳ"] + [f"N = {w}\ncos {cosines[w][0, 0]:.3f}" for w in result.widths]
    return figures.image_grid([row], titles=titles, size=1.8)


def cosine_figure(result: Sweep):
    """Cosine between output and ȳ against the width, mean ± std over networks and images."""
    cosines = result.cosines()
    fig = figures.mean_std_curves(list(result.widths), {f"cos(y, ȳ), {result.label}": (
        [cosines[w].mean() for w in result.widths], [cosines[w].std() for w in result.widths])},
        "width N (channels in every layer)", "cosine to the limit", logx=True)
    width_axis(fig.axes[0], result.widths)
    return fig


def angles_figure(results: Sequence[Sweep], bound_curves: dict[str, dict[int, float]], delta: float):
    """Angle between output and limit against the width on log–log axes, mean ± std over networks and images, with
    the least-squares line over every (network, image) point, and the bounds of ``bound_curves`` (label → width →
    bound, drawn where below π/2)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for colour, result in zip(("C0", "C1", "C2"), results):
        xs = np.array(result.widths, float)
        a = result.angles["limit"]
        fit = loglog_slope(a)
        ax.errorbar(xs, [a[w].mean() for w in result.widths], yerr=[a[w].std() for w in result.widths], fmt="o",
                    color=colour, ms=4, capsize=2, label=f"{result.label}: slope {fit['slope']:.3f}")
        ax.plot(xs, np.exp(fit["intercept"]) * xs ** fit["slope"], "-", color=colour, lw=1)
    for style, (label, curve) in zip(("k--", "k:"), bound_curves.items()):
        below = [w for w, b in curve.items() if b < math.pi / 2]
        if below:
            ax.plot(below, [curve[w] for w in below], style, lw=1.2, label=f"{label}, δ = {delta}")
    ax.set_xscale("log"), ax.set_yscale("log")
    width_axis(ax, sorted(set().union(*(r.widths for r in results))))
    ax.set_xlabel("width N"), ax.set_ylabel("angle between y and ȳ (rad)"), ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def slope_by_smallest_width(result: Sweep, rule) -> dict[int, object]:
    """``rule`` (a :class:`rdcn.claims.rules.Slope` on ``width`` and ``angle``) decided on the per-network angles of
    ``result`` at the widths ≥ N₀, for each N₀ that leaves two widths at least: N₀ → verdict."""
    verdicts = {}
    for i, smallest in enumerate(result.widths[:-1]):
        kept = result.widths[i:]
        verdicts[smallest] = rule.decide(dict(width=kept, angle=result.per_network("limit", kept)))
    return verdicts


def slope_scale_figure(result: Sweep, claim):
    """The scale figure of a slope claim (a :class:`rdcn.claims.Claim` whose rule is a Slope): the fitted log–log
    slope with its 95 % interval against the smallest width kept in the fit (its knob), and the claimed range."""
    verdicts = slope_by_smallest_width(result, claim.rule)
    fig = figures.scale_figure("smallest width N₀ in the fit", list(verdicts), list(verdicts.values()),
                               "log–log slope of the angle", (claim.rule.low, claim.rule.high), logx=True)
    width_axis(fig.axes[0], list(verdicts))
    fig.axes[0].set_title(f"{result.label}: {claim.id}", fontsize=9)
    return fig


def average_pooling_figure(result: Sweep):
    """Angles of average-pooling variants to their own limit (Theorem A.7) and to the ℓ2 limit (Theorem 5.1),
    mean ± std over networks and images."""
    series = {label: ([result.angles[t][w].mean() for w in result.widths],
                      [result.angles[t][w].std() for w in result.widths])
              for label, t in [("to its own limit (Thm A.7)", "limit"), ("to the ℓ2 limit (Thm 5.1)", "l2")]}
    fig = figures.mean_std_curves(list(result.widths), series, "width N", "angle (rad)", logx=True, logy=True,
                                  title=result.label)
    width_axis(fig.axes[0], result.widths)
    return fig
