"""Random weights of He et al. §2.2: four distributions drawn in place into every convolution.

- ``gaussian``: N(0, σ²), σ = 0.015 by default (the paper's sweep: 0.001 … 0.05, :data:`GAUSSIAN_SIGMAS`).
- ``uniform``: U[−0.04, 0.04).
- ``logistic``: Logistic(0, scale 0.015).
- ``laplace``: Laplace(0, b); the paper's b was lost in extraction: we use b = 0.015/√2, the Gaussian's std.

Biases are zero. Every draw comes from an explicit ``torch.Generator`` (or a seed that makes one) on the CPU, in
module order, then moves to the weights' device: the same seed gives the same weights on any device.
"""
from __future__ import annotations

import math

import torch
from scipy import stats
from torch import nn

from . import checks

DISTRIBUTIONS: dict[str, dict[str, float]] = {
    "gaussian": {"sigma": 0.015},
    "uniform": {"low": -0.04, "high": 0.04},
    "logistic": {"scale": 0.015},
    "laplace": {"b": 0.015 / math.sqrt(2)},
}
GAUSSIAN_SIGMAS = (0.001, 0.005, 0.01, 0.015, 0.02, 0.05)


def parameters(distribution: str, **params: float) -> dict[str, float]:
    """The distribution's parameters: its defaults updated by ``params`` (unknown names are errors)."""
    checks.choice("distribution", distribution, DISTRIBUTIONS)
    defaults = DISTRIBUTIONS[distribution]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for {distribution!r}; allowed: {sorted(defaults)}")
    merged = {**defaults, **params}
    for name, value in merged.items():
        if name in ("low", "high"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{distribution} parameter {name!r} must be a finite number, got {value!r}")
        else:
            checks.positive_number(f"{distribution} parameter {name!r}", value)
    if distribution == "uniform" and not merged["low"] < merged["high"]:
        raise ValueError(f"uniform needs low < high, got low={merged['low']}, high={merged['high']}")
    return merged


def as_generator(seed_or_generator: int | torch.Generator) -> torch.Generator:
    """A CPU generator: the one given, or a new one seeded with the given integer."""
    if isinstance(seed_or_generator, torch.Generator):
        return seed_or_generator
    return torch.Generator().manual_seed(checks.seed(seed_or_generator))


def sample(distribution: str, shape, generator: int | torch.Generator, **params: float) -> torch.Tensor:
    """``shape`` i.i.d. draws (float32, CPU) from ``distribution``; logistic and Laplace by their inverse CDFs."""
    p, gen = parameters(distribution, **params), as_generator(generator)
    if distribution == "gaussian":
        return torch.randn(shape, generator=gen) * p["sigma"]
    u = torch.rand(shape, generator=gen, dtype=torch.float64)
    if distribution == "uniform":
        x = p["low"] + (p["high"] - p["low"]) * u
    elif distribution == "logistic":
        u = u.clamp(1e-12, 1 - 1e-12)
        x = p["scale"] * torch.log(u / (1 - u))
    else:
        c = u - 0.5
        x = -p["b"] * torch.sign(c) * torch.log1p(-2 * c.abs()).clamp_min(-745)
    return x.float()


def scipy_distribution(distribution: str, **params: float):
    """The same distribution as a frozen ``scipy.stats`` object (densities and moments for figures and tests)."""
    p = parameters(distribution, **params)
    if distribution == "gaussian":
        return stats.norm(0, p["sigma"])
    if distribution == "uniform":
        return stats.uniform(p["low"], p["high"] - p["low"])
    if distribution == "logistic":
        return stats.logistic(0, p["scale"])
    return stats.laplace(0, p["b"])


@torch.no_grad()
def randomize_(module: nn.Module, distribution: str = "gaussian", generator: int | torch.Generator = 0,
               **params: float) -> nn.Module:
    """Draw every conv (and transposed conv) weight of ``module`` from ``distribution``, in module order;
    zero every bias. Returns ``module``."""
    gen = as_generator(generator)
    parameters(distribution, **params)  # validate before drawing anything
    for layer in module.modules():
        if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d)):
            layer.weight.copy_(sample(distribution, layer.weight.shape, gen, **params))
            if layer.bias is not None:
                layer.bias.zero_()
    return module
