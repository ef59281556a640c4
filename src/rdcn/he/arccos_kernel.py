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

import numpy as np
import scipy.linalg
import torch

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
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    if not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an integer ≥ 2, got {dim!r}")
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
    if not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an integer ≥ 2, got {samples!r}")
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
