"""Lemma A.2 of He et al. (Appendix A): the moments of a ReLU of a random projection.

For a random filter ``w`` with an isotropic density, σ = ReLU and any vectors ``u``, ``v`` at angle θ,

    E σ(w·u) = c₁‖u‖,    E σ(w·u)σ(w·v) = ‖u‖‖v‖ g(θ),    g(θ) = c₂ (sin θ + (π − θ) cos θ) / π,

with c₁ = E σ(w₁), c₂ = E σ(w₁)² (w₁ one coordinate; g(0) = c₂): the degree-1 arc-cosine kernel of Cho & Saul.
For w ~ N(0, s²I): c₁ = s/√(2π), c₂ = s²/2 (per *unit-norm* input: a filter of fan-in n has ‖w‖ ≈ s√n, which is
why the constants carry no n).

The paper's other three distributions draw i.i.d. entries, and an i.i.d. non-Gaussian vector is *not* isotropic.
What survives, and what does not:

- c₂ = s²/2 holds exactly for every symmetric entry distribution of variance s², because σ(z)² + σ(−z)² = z²
  gives E σ(w·u)² = ½ E (w·u)² = ½ s²‖u‖² for any u;
- c₁ and g(θ) depend on the direction of u (and v): exact only for the Gaussian; for a direction spread over many
  coordinates the central limit theorem makes w·u Gaussian again, so the Gaussian values are the wide-fan-in limit,
  while axis-aligned directions (the fewest non-zero coordinates) are the worst case. :func:`axis_c1_ratio` and
  :func:`relu_product_monte_carlo` measure how far.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from ..core import checks, seeds
from ..core import random_weights as rw

DIRECTIONS = ("axis", "spread")


def weight_moments(distribution: str = "gaussian", **params: float) -> tuple[float, float]:
    """(mean, standard deviation) of one filter entry of ``distribution`` (see :mod:`rdcn.random_weights`)."""
    dist = rw.scipy_distribution(distribution, **params)
    return float(dist.mean()), float(dist.std())


def relu_constants(distribution: str = "gaussian", **params: float) -> tuple[float, float]:
    """(c₁, c₂) of Lemma A.2 for filters with i.i.d. entries from ``distribution``: c₁ = s/√(2π), c₂ = s²/2.

    Exact for the Gaussian. For the others c₂ is exact (see the module's note) and c₁ is the wide-fan-in (central
    limit) value; raises ValueError for a distribution whose mean is not zero (the lemma needs symmetric entries).
    """
    mean, std = weight_moments(distribution, **params)
    if abs(mean) > 1e-12 * std:
        raise ValueError(f"Lemma A.2 needs zero-mean symmetric filter entries; {distribution} {params} has mean {mean}")
    return std / math.sqrt(2 * math.pi), std**2 / 2


def arccos_kernel(theta, c2: float = 0.5):
    """g(θ) = c₂ (sin θ + (π − θ) cos θ)/π: E σ(w·u)σ(w·v) for unit u, v at angle θ (Lemma A.2); numpy or torch."""
    lib = torch if isinstance(theta, torch.Tensor) else np
    return c2 * (lib.sin(theta) + (math.pi - theta) * lib.cos(theta)) / math.pi


def unit_pair(theta: float, dim: int = 2, direction: str = "axis") -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors u, v ∈ R^dim at angle ``theta``, in the plane of two orthonormal vectors that are either
    coordinate axes (``"axis"``: the fewest non-zero coordinates, the worst case for i.i.d. entries) or two rows of a
    Hadamard matrix over √dim (``"spread"``: every coordinate of equal magnitude; ``dim`` a power of two)."""
    checks.choice("direction", direction, DIRECTIONS)
    checks.positive_int("dim", dim, minimum=2)
    if direction == "axis":
        e1, e2 = np.eye(dim)[:2]
    else:
        if dim & (dim - 1):
            raise ValueError(f"spread directions need dim a power of two, got {dim}")
        e1, e2 = scipy.linalg.hadamard(dim)[:2] / math.sqrt(dim)
    return e1, math.cos(theta) * e1 + math.sin(theta) * e2


@torch.no_grad()
def relu_product_monte_carlo(distribution: str, thetas, samples: int, generator: int | torch.Generator,
                             dim: int = 2, direction: str = "axis", **params: float) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo estimate of E σ(w·u)σ(w·v) at each angle of ``thetas`` (u, v from :func:`unit_pair`), from
    ``samples`` filters w with i.i.d. entries of ``distribution``, the same filters for every angle: (mean, standard
    error) arrays. Set against :func:`arccos_kernel` (Lemma A.2)."""
    checks.positive_int("samples", samples, minimum=2)
    pairs = [unit_pair(float(t), dim, direction) for t in np.atleast_1d(thetas)]
    u = torch.tensor(np.stack([p[0] for p in pairs], 1))  # dim × angles
    v = torch.tensor(np.stack([p[1] for p in pairs], 1))
    w = rw.sample(distribution, (samples, dim), generator, **params).double()
    prod = torch.relu(w @ u) * torch.relu(w @ v)  # samples × angles
    return prod.mean(0).numpy(), (prod.std(0) / math.sqrt(samples)).numpy()


def axis_c1_ratio(distribution: str = "gaussian", **params: float) -> float:
    """E σ(w₁) / (s/√(2π)) for one i.i.d. entry w₁ of std s: how far c₁ is from its Gaussian value for an
    axis-aligned input (exact, by scipy's quadrature; 1 for the Gaussian)."""
    dist = rw.scipy_distribution(distribution, **params)
    return float(dist.expect(lambda z: z, lb=0.0) / (dist.std() / math.sqrt(2 * math.pi)))


@dataclass(frozen=True)
class LemmaCheck:
    """Lemma A.2 measured: for Gaussian filters, ``replicates`` independent Monte Carlo estimates of
    E σ(w·u)σ(w·v) at each angle (u, v on two coordinate axes of R²) against the closed form; for every distribution
    of §2.2, the Monte Carlo over the isotropic formula with that distribution's c₂, for axis-aligned and spread
    directions (:func:`unit_pair`), and c₁'s ratio to its Gaussian value on an axis."""

    thetas: np.ndarray
    samples: int
    c1: float
    c2: float
    closed_form: np.ndarray  # angles
    monte_carlo: np.ndarray  # replicates × angles
    standard_error: np.ndarray  # replicates × angles
    ratio: dict  # distribution → direction → (Monte Carlo / isotropic formula) per angle θ < π
    c1_axis: dict  # distribution → E σ(w₁) / (s/√(2π))

    @property
    def max_deviation(self) -> np.ndarray:
        """Per replicate, the largest |Monte Carlo − closed form| over the angles, in units of c₂ = g(0)."""
        return np.abs(self.monte_carlo - self.closed_form).max(1) / self.c2

    def record(self) -> dict:
        """The numbers the chapter stores."""
        return dict(thetas=self.thetas, samples=self.samples, c1=self.c1, c2=self.c2, closed_form=self.closed_form,
                    monte_carlo=self.monte_carlo, standard_error=self.standard_error,
                    max_deviation=self.max_deviation, c1_axis_ratio=self.c1_axis,
                    max_gap={n: {d: float(np.abs(r - 1).max()) for d, r in by.items()} for n, by in self.ratio.items()})

    def values(self) -> dict:
        """Values for the chapter's prose."""
        gap = self.record()["max_gap"]
        return dict(mc_samples=f"{self.samples:,}", mc_replicates=len(self.monte_carlo), n_angles=len(self.thetas),
                    lemma_deviation=float(self.max_deviation.mean()),
                    gap_spread_max=max(g["spread"] for g in gap.values()),
                    **{f"gap_axis_{name}": g["axis"] for name, g in gap.items()})


#: The spread directions of :func:`lemma_check` live in R^32 (a power of two, for Hadamard rows).
SPREAD_DIM = 32


def lemma_check(angles: int, samples: int, replicates: int, seed: int) -> LemmaCheck:
    """Measure Lemma A.2 (see :class:`LemmaCheck`) at ``angles`` angles evenly spaced in [0, π], from ``samples``
    filters per estimate; the Gaussian check repeated ``replicates`` times with independent seeds
    (:func:`rdcn.core.seeds.derive_many`)."""
    checks.positive_int("angles", angles, minimum=2)
    checks.positive_int("replicates", replicates)
    thetas = np.linspace(0, math.pi, angles)
    c1, c2 = relu_constants("gaussian")
    estimates = [relu_product_monte_carlo("gaussian", thetas, samples, s)
                 for s in seeds.derive_many(seed, replicates, "lemma_a2")]
    inner = thetas < math.pi - 1e-9  # g(π) = 0: no ratio there
    ratio = {}
    for name in rw.DISTRIBUTIONS:
        formula = arccos_kernel(thetas[inner], relu_constants(name)[1])
        ratio[name] = {direction: relu_product_monte_carlo(
            name, thetas[inner], samples, seeds.derive(seed, "isotropy", name, direction),
            2 if direction == "axis" else SPREAD_DIM, direction)[0] / formula for direction in DIRECTIONS}
    return LemmaCheck(thetas, samples, c1, c2, arccos_kernel(thetas, c2), np.stack([e[0] for e in estimates]),
                      np.stack([e[1] for e in estimates]), ratio, {n: axis_c1_ratio(n) for n in rw.DISTRIBUTIONS})


def lemma_figure(check: LemmaCheck):
    """Left: E σ(w·u)σ(w·v)/c₂ for Gaussian filters, the mean of the Monte Carlo replicates (bars ±3 standard
    errors of that mean) against the closed form. Right: each distribution's Monte Carlo over the isotropic
    formula, axis-aligned (solid) and spread (dashed) directions."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6))
    fine = np.linspace(0, math.pi, 200)
    mean = check.monte_carlo.mean(0)
    error = np.sqrt((check.standard_error**2).sum(0)) / len(check.monte_carlo)
    left.plot(fine, arccos_kernel(fine, 1.0), "k", lw=1.2, label=r"closed form $g(\theta)/c_2$")
    left.errorbar(check.thetas, mean / check.c2, yerr=3 * error / check.c2, fmt="o", ms=3, capsize=2,
                  label="Monte Carlo ± 3 s.e.")
    left.set_xlabel(r"angle $\theta$ between $u$ and $v$")
    left.set_ylabel(r"$E\,\sigma(w\cdot u)\sigma(w\cdot v)/c_2$")
    left.set_title("Gaussian filters", fontsize=10), left.legend(fontsize=8), left.grid(alpha=0.3)
    inner = check.thetas[check.thetas < math.pi - 1e-9]
    for i, (name, by_direction) in enumerate(check.ratio.items()):
        for direction, style in [("axis", "-"), ("spread", "--")]:
            label = f"{name}, {'2-d axes' if direction == 'axis' else f'{SPREAD_DIM}-d spread'}"
            right.plot(inner, by_direction[direction], style, color=f"C{i}", marker="o", ms=2.5, label=label)
    right.axhline(1, color="k", lw=0.8)
    right.set_xlabel(r"angle $\theta$"), right.set_ylabel("Monte Carlo / isotropic formula")
    right.set_title("i.i.d. filters: distance from isotropy", fontsize=10)
    right.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5)), right.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def isotropy_rows(check: LemmaCheck) -> list[dict]:
    """The table of :func:`lemma_check`'s isotropy gaps: per distribution, its s, c₁ on an axis over the Gaussian
    value, and the largest |Monte Carlo / isotropic formula − 1| for axis-aligned and spread directions."""
    gap = check.record()["max_gap"]
    return [{"distribution": name, "s": f"{weight_moments(name)[1]:.4f}",
             "E σ(w₁) / (s/√(2π)) (axis)": f"{check.c1_axis[name]:.3f}",
             "max |ratio − 1|, 2-d axes": f"{gap[name]['axis']:.3f}",
             f"max |ratio − 1|, {SPREAD_DIM}-d spread": f"{gap[name]['spread']:.3f}"} for name in rw.DISTRIBUTIONS]
