"""Gilbert et al.'s synthetic experiments (§4.1, Fig. 3) and their 2-D model-RIP check, with Thm 3.3's bound
evaluated at the measured RIP constants.

- :func:`one_dimensional`: their 1-D setting (ℓ = 5, M = 32, K = 96, D = 32, k = 10 non-zeros from U[−1, 1]),
  a new Gaussian filter bank per trial: the model-RIP ratio ‖Wᵀz‖/‖z‖, the ratios ‖WWᵀz‖/‖z‖ (read on z's support
  and over all of Wx), the one-step errors with 𝕄_fixed and the blind 𝕄, and, per bank, δ_k and δ_2k estimated
  from sampled supports and Thm 3.3's bound at them (:func:`rdcn.gilbert.compressive_sensing.synthetic_ratios`).
- :func:`two_dimensional`: filters shaped like VGG16's conv(5,2) (3×3, K = M = 512, 15×15 maps, 2×2 pooling),
  random codes of 𝓜_k spread over a few banks.

Each returns a :class:`Sample` (one value per trial, the trial's bank beside it); :func:`figure_1d`,
:func:`figure_2d` and :func:`bound_figure` draw them. Every random choice comes from :func:`rdcn.core.seeds`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from ..core import checks, seeds
from . import compressive_sensing as cs

QUANTILES = (0.05, 0.25, 0.75, 0.95)


@dataclass(frozen=True)
class Sample:
    """The per-trial values of a synthetic experiment (``values[key]``, one per trial) and its ``parameters``;
    ``bank[i]`` is trial i's filter bank."""

    parameters: dict
    values: dict[str, np.ndarray]
    bank: np.ndarray

    @property
    def trials(self) -> int:
        return len(self.bank)

    @property
    def banks(self) -> int:
        return len(np.unique(self.bank))

    def median(self, key: str) -> float:
        return float(np.median(self.values[key]))

    def quantiles(self, key: str, q=QUANTILES) -> list[float]:
        return [float(v) for v in np.quantile(self.values[key], q)]

    def per_bank(self, key: str) -> np.ndarray:
        """The median of ``key`` over each bank's trials: one value per bank (the replicates of a statistic of
        the filters)."""
        return np.array([np.median(self.values[key][self.bank == b]) for b in np.unique(self.bank)])

    def record(self) -> dict:
        return dict(parameters=self.parameters, trials=self.trials, banks=self.banks,
                    medians={k: self.median(k) for k in self.values},
                    quantiles={k: dict(zip(map(str, QUANTILES), self.quantiles(k))) for k in self.values})


def _sample(parameters: dict, result: dict) -> Sample:
    bank = result.pop("bank").numpy()
    return Sample(parameters, {k: v.double().numpy() for k, v in result.items()}, bank)


def one_dimensional(trials: int, seed: int, supports: int) -> Sample:
    """Gilbert et al.'s 1-D experiment (:data:`rdcn.gilbert.compressive_sensing.SYNTHETIC_1D`) on ``trials``
    trials, one Gaussian bank each, with each bank's δ_k, δ_2k estimated from ``supports`` sampled supports."""
    checks.positive_int("supports", supports)
    result = cs.synthetic_ratios(trials, seeds.generator(seed, "synthetic", "1d"), supports=supports,
                                 **cs.SYNTHETIC_1D)
    return _sample(dict(cs.SYNTHETIC_1D, supports=supports), result)


def two_dimensional(codes: int, banks: int, seed: int) -> Sample:
    """Their 2-D model-RIP check (:data:`rdcn.gilbert.compressive_sensing.SYNTHETIC_2D`): ``codes`` random codes
    of 𝓜_k spread over ``banks`` Gaussian banks."""
    result = cs.synthetic_ratios(codes, seeds.generator(seed, "synthetic", "2d"), banks=banks, reconstruct=False,
                                 **cs.SYNTHETIC_2D)
    return _sample(dict(cs.SYNTHETIC_2D), result)


def full_gram_centre(parameters: dict) -> float:
    """Where ‖WWᵀz‖/‖z‖ over all of Wx centres away from the borders, √(1 + K/M) (our derivation in the chapter)."""
    return math.sqrt(1 + parameters["filters"] / parameters["channels"])


def _gram_panel(ax, sample: Sample) -> None:
    ax.hist(sample.values["gram_on_support"], bins=40, alpha=0.7, label="read on z's support")
    ax.hist(sample.values["gram"], bins=40, alpha=0.7, label="all of $Wx$")
    for value in (1, full_gram_centre(sample.parameters)):
        ax.axvline(value, color="k", lw=1)
    ax.set_xlabel(r"$\|W W^\top z\| / \|z\|$")
    ax.legend(fontsize=8)


def figure_1d(sample: Sample):
    """Three histograms over the trials: the model-RIP ratio, ‖WWᵀz‖/‖z‖ (on the support and over all of Wx, lines
    at 1 and √(1 + K/M)), and the one-step errors with 𝕄_fixed and the blind 𝕄."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
    axes[0].hist(sample.values["rip"], bins=40, color="C0")
    axes[0].axvline(1, color="k", lw=1)
    axes[0].set_xlabel(r"$\|W^\top z\| / \|z\|$")
    _gram_panel(axes[1], sample)
    axes[2].hist(sample.values["one_step_fixed"], bins=40, alpha=0.7, label=r"positions known ($\mathbb{M}_{fixed}$)")
    axes[2].hist(sample.values["one_step_blind"], bins=40, alpha=0.7, label="blind")
    axes[2].set_xlabel(r"one-step error $\|\hat x - x\| / \|x\|$")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.set_ylabel("trials")
    fig.tight_layout()
    return fig


def figure_2d(sample: Sample):
    """Two histograms over the codes: the model-RIP ratio and ‖WWᵀz‖/‖z‖ (lines at 1 and √(1 + K/M))."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].hist(sample.values["rip"], bins=40)
    axes[0].axvline(1, color="k", lw=1)
    axes[0].set_xlabel(r"$\|W^\top z\| / \|z\|$")
    axes[0].set_ylabel("codes")
    _gram_panel(axes[1], sample)
    fig.tight_layout()
    return fig


def bound_figure(sample: Sample):
    """Each trial's blind one-step error against Thm 3.3's bound at its bank's estimated δ (log axes), with the
    diagonal (the bound met with equality) and the error 1 of the reconstruction x̂ = 0."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.scatter(sample.values["bound"], sample.values["one_step_blind"], s=5, alpha=0.5)
    low = min(sample.values["one_step_blind"].min(), 0.05)
    high = max(sample.values["bound"].max(), 2)
    ax.plot([low, high], [low, high], color="k", lw=1, label="error = bound")
    ax.axhline(1, color="grey", lw=1, linestyle="--", label=r"error of $\hat x = 0$")
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel("Thm 3.3's bound at the estimated δ")
    ax.set_ylabel("blind one-step error")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def values_1d(sample: Sample) -> dict:
    """The numbers the chapter's prose quotes about the 1-D experiment, by glue name."""
    fixed, blind, bound = (sample.values[k] for k in ("one_step_fixed", "one_step_blind", "bound"))
    low, high = np.quantile(fixed, [0.1, 0.9])
    return {"trials": f"{sample.trials:,}", "rip_supports": sample.parameters["supports"],
            **{f"median_1d_{key}": sample.median(key) for key in sample.values},
            "sqrt_1_plus_K_over_M": full_gram_centre(sample.parameters), "fixed_q": f"{low:.2f}–{high:.2f}",
            "fixed_below_half": float(np.mean(fixed < 0.5)), "blind_max": float(blind.max()),
            "bound_min": float(bound.min()), "bound_below_one": float(np.mean(bound < 1)),
            "bound_over_error": float(np.median(bound / blind)),
            "delta_informative": cs.largest_informative_delta_2k()}


def values_2d(sample: Sample) -> dict:
    """The numbers the chapter's prose quotes about the 2-D check, by glue name."""
    low, high = np.quantile(sample.values["rip"], [0.05, 0.95])
    return {"k_2d": f"{sample.parameters['nonzeros']:,}", "banks_2d": sample.banks,
            "trials_2d": f"{sample.trials:,}", "spread_2d": f"{low:.3f}–{high:.3f}",
            **{f"median_2d_{key}": sample.median(key) for key in sample.values}}
