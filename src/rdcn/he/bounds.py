"""The bounds of He et al. §5.2–5.3 (Theorems 5.2, 5.3, 5.4; Appendix A.2–A.3) in our reconstruction, evaluated
with their constants on the chapter's networks and images.

The extracted paper text lost every formula; what follows is our derivation, along the proofs' steps.

- **Theorem 5.2** (two layers: one conv of N Gaussian filters, then the mean; :func:`theorem_5_2_bound`): with
  probability ≥ 1 − δ, sin θ ≤ √((c₂/c₁² − 1)/(Nδ)) = √((π − 1)/(Nδ)), θ the angle between output y and limit ȳ
  (Markov's inequality on ‖y − ȳ‖², whose mean is (c₂ − c₁²)Σ_j‖u_j‖²/N, against ‖ȳ‖² = c₁²Σ_j‖u_j‖²).
- **Theorem 5.3** (many layers; :func:`theorem_5_3_bound`). The paper bounds the angle layer by layer, assuming
  "at most one route" from an input pixel to an output pixel, so that every window partitions its map (its Lemma
  A.4). Our derivation needs no such hypothesis. Follow the per-pixel energies e_l = Σ_c X_{l,c}² and their limits
  ē_l (:func:`rdcn.he.theory.energy_steps`), and measure the error of a layer by the relative error z = e/ē − 1 in
  the ē-weighted norm ‖z‖² = Σ_p ē_p z_p² / Σ_p ē_p. Then

  - a linear step T (window sum, ℓ2 pooling, upsampling) multiplies that norm by at most √A, where A is T's largest
    column sum over its averaged column sum (weights ē) — Jensen's inequality on each window's weighted mean; A is 1
    when windows partition the map and exceeds 1 only where windows overlap unevenly (borders);
  - a conv of N_l Gaussian filters adds noise of conditional mean square (c₄/c₂² − 1)/N_l = 5/N_l times
    (1 + ‖Z‖)², Z the error it receives (E σ(z)⁴ = 3s⁴/2, E σ(z)² = s²/2): by Markov, with probability ≥ 1 − δ_l,
    R ← (1 + β_l)R + β_l, β_l = √(5/(N_l δ_l));
  - the square root at the end: |√(1 + z) − 1| ≤ |z| gives sin θ(a, ā) ≤ ‖z‖ for a_j = ‖u_j‖ the window norms
    the last conv sees, and Theorem 5.2's step adds the last conv's own noise.

  With δ_l = δ/M over the M convs (as the paper chooses), with probability ≥ 1 − δ,
  θ ≤ arcsin min(1, R) + arcsin min(1, √((π − 1)M/(N_M δ))). For the two-layer net (M = 1) this is Theorem 5.2.
- **Theorem 5.4** (two layers, one k×k conv, stride 1, zero padding, one channel, x ≥ 0; :func:`theorem_5_4`):
  with m the k×k mean of x around each pixel and δ = x − m, cos(x, ȳ) ≥ ⟨x, m⟩/‖x‖² ≥ 1 − ‖δ‖/‖x‖.
- **Its multi-layer form** (Appendix A.3; :func:`cosine_bounds`): with route counts n_ij (:func:`path_counts`),
  n_j = Σ_i n_ij, r_i = Σ_j n_ij and m_j = Σ_i n_ij x_i / n_j, the paper's form ⟨x, m⟩/‖x‖² assumes every output
  pixel has the same routes; ours, Σ_j √(n_j / max_i r_i) x_j m_j / ‖x‖², is a bound without that assumption.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core import architectures as arch
from ..core import checks, data, metrics
from .arccos_kernel import relu_constants
from .theory import cosine, energy_steps, limit, two_layer, variant

#: Var σ(z)² / (E σ(z)²)² for a centred Gaussian z: (3/2 − 1/4) / (1/4). The noise of a conv layer's energies.
SQUARED_RELU_VARIANCE_RATIO = 5.0


def _check_delta(delta: float) -> float:
    checks.positive_number("delta", delta)
    if not delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    return delta


def _gaussian_only(distribution: str) -> None:
    checks.choice("distribution", distribution, ("gaussian",))


def theorem_5_2_bound(width: int, delta: float, distribution: str = "gaussian", **params: float) -> float:
    """Theorem 5.2 for the two-layer variant of ``width`` Gaussian filters (see the module's note): the bound on the
    angle θ between output and ȳ that holds with probability ≥ 1 − ``delta`` (π/2 where √((π − 1)/(Nδ)) ≥ 1)."""
    checks.positive_int("width", width)
    _check_delta(delta)
    _gaussian_only(distribution)  # the two-layer net's fan-in is finite: c₁ is exact for Gaussian filters only
    c1, c2 = relu_constants(distribution, **params)
    s = math.sqrt((c2 / c1**2 - 1) / (width * delta))
    return math.asin(s) if s < 1 else math.pi / 2


def _column_sums(step, shape: tuple[int, ...]) -> torch.Tensor:
    """Tᵀ1 for the linear map ``step.apply`` on 1 × 1 × H × W maps: how many times (with weights) each input pixel
    is counted by the step's windows."""
    z = torch.zeros(1, 1, *shape, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        (columns,) = torch.autograd.grad(step.apply(z).sum(), z)
    return columns


@torch.no_grad()
def amplification(net: arch.CNNDCN, x: torch.Tensor) -> torch.Tensor:
    """A of every linear step of the ℓ2 variant ``net``'s energy recursion on images ``x`` (B × C × H × W), as a
    B × steps float64 tensor (see the module's note): the step's largest column sum over the support of the limit
    energies it receives, divided by its column sum averaged with those energies as weights. 1 for windows that
    partition the map (the paper's "one route"), above 1 where overlapping windows count pixels unevenly."""
    energy = _energies(x)
    factors = []
    for step in energy_steps(net, tuple(x.shape[-2:])):
        columns = _column_sums(step, tuple(energy.shape[-2:]))
        weights = energy.flatten(1)
        col = columns.flatten().expand_as(weights)
        largest = torch.where(weights > 0, col, torch.zeros_like(col)).max(1).values
        factors.append(largest / ((weights * col).sum(1) / weights.sum(1)))
        energy = step.apply(energy)
    return torch.stack(factors, 1)


def _energies(x: torch.Tensor) -> torch.Tensor:
    if x.ndim != 4:
        raise ValueError(f"x must be B × C × H × W, got shape {tuple(x.shape)}")
    energy = (x.double() ** 2).sum(1, keepdim=True)
    if (energy.flatten(1).sum(1) == 0).any():
        raise ValueError("every image of x must have a non-zero pixel (the angle to a zero limit is undefined)")
    return energy


@torch.no_grad()
def theorem_5_3_bound(net: arch.CNNDCN, x: torch.Tensor, delta: float, distribution: str = "gaussian") -> torch.Tensor:
    """Our Theorem 5.3 for the ℓ2 variant ``net`` (its convs as wide as they are built; a net on the meta device
    will do, the weights are never read) on images ``x``: per image, the bound on the angle between output and ȳ
    that holds with probability ≥ 1 − ``delta`` over the filters (see the module's note), capped at π/2."""
    _check_delta(delta)
    _gaussian_only(distribution)
    c1, c2 = relu_constants(distribution)
    steps = energy_steps(net, tuple(x.shape[-2:]))
    factors = amplification(net, x)
    share = delta / sum(step.conv for step in steps)
    error = torch.zeros(len(x), dtype=torch.float64)
    for index, step in enumerate(steps):
        error = factors[:, index].sqrt() * error
        if step.last:
            output = min(1.0, math.sqrt((c2 / c1**2 - 1) / (step.module.out_channels * share)))
            return (torch.arcsin(error.clamp(max=1)) + math.asin(output)).clamp(max=math.pi / 2)
        if step.conv:
            beta = math.sqrt(SQUARED_RELU_VARIANCE_RATIO / (step.module.out_channels * share))
            error = (1 + beta) * error + beta
    raise AssertionError("energy_steps ends with the conv feeding the mean")


def theorem_5_3_bounds(layers: arch.Layers, x: torch.Tensor, widths, delta: float) -> np.ndarray:
    """:func:`theorem_5_3_bound` of the ℓ2 variant of ``layers`` at each of ``widths`` (every conv that wide):
    a widths × images array."""
    checks.positive_ints("widths", widths)
    result = []
    for width in widths:
        with torch.device("meta"):
            net = variant(layers, width)
        result.append(theorem_5_3_bound(net, x, delta).numpy())
    return np.stack(result)


def informative_width(layers: arch.Layers, x: torch.Tensor, delta: float, angle: float = math.pi / 2,
                      largest: int = 2**24) -> int | None:
    """The smallest power-of-two width at which our Theorem 5.3 bound for the ℓ2 variant of ``layers`` falls below
    ``angle`` on every image of ``x`` (computed from the formula alone; None if not by ``largest``)."""
    checks.positive_number("angle", angle)
    width = 1
    while width <= largest:
        if theorem_5_3_bounds(layers, x, (width,), delta).max() < angle:
            return width
        width *= 2
    return None


def path_counts(net: arch.CNNDCN, size: tuple[int, int]) -> torch.Tensor:
    """n_ij of Theorem 5.1 for ``net`` on ``size`` inputs: the number of routes from input pixel i (of one channel)
    to output pixel j, as an (H·W) × (H·W) float64 matrix (row i, column j). Read off the energy recursion, which is
    linear in x² (ȳ² = c₁² c₂^{n−1} Σ_i n_ij x_i², n the number of convs), one basis image per input pixel."""
    h, w = size
    first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    basis = torch.zeros(h * w, first.in_channels, h, w, dtype=torch.float64)
    basis[:, 0].view(h * w, h * w).fill_diagonal_(1.0)
    c1, c2 = relu_constants("gaussian")
    n_convs = sum(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    counts = (limit(net, basis, method="energy") / c1) ** 2 / c2 ** (n_convs - 1)
    return counts.reshape(h * w, -1).round()


def route_census(counts: torch.Tensor) -> dict[str, float]:
    """How far a net is from Theorem 5.3's hypothesis "at most one route from any input pixel to any output pixel",
    from its route counts (:func:`path_counts`): the largest n_ij, and the share of connected pairs (n_ij ≥ 1)
    joined by more than one route."""
    connected = counts > 0
    return dict(max_routes=float(counts.max()),
                share_multiple=float((counts > 1).sum() / connected.sum()),
                connected_pairs=int(connected.sum()))


def _one_channel_non_negative(x: torch.Tensor) -> torch.Tensor:
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"x must be B × 1 × H × W (one channel), got shape {tuple(x.shape)}")
    if (x < 0).any():
        raise ValueError("the bounds need non-negative pixels")
    return x.double()


@torch.no_grad()
def theorem_5_4(x: torch.Tensor, kernel_size: int) -> dict[str, torch.Tensor]:
    """Theorem 5.4 on one-channel non-negative images ``x`` (B × 1 × H × W) and an odd kernel k: the measured
    cos(x, ȳ) of the two-layer variant (``cos``) and its lower bounds ⟨x, m⟩/‖x‖² (``bound``) and 1 − ‖δ‖/‖x‖
    (``bound_delta``), per image (see the module's note; m: zero padding, divisor k²)."""
    checks.positive_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd positive integer (Theorem 5.4's patch has a centre pixel), "
                         f"got {kernel_size!r}")
    x = _one_channel_non_negative(x)
    ybar = limit(variant(two_layer(kernel_size), 1), x)
    mean = F.conv2d(x, x.new_full((1, 1, kernel_size, kernel_size), 1 / kernel_size**2), padding="same")
    flat, m = x.flatten(1), mean.flatten(1)
    norm2 = (flat * flat).sum(1)
    return dict(cos=cosine(x, ybar), bound=(flat * m).sum(1) / norm2,
                bound_delta=1 - (flat - m).norm(dim=1) / norm2.sqrt())


def theorem_5_4_sweep(x: torch.Tensor, kernel_sizes) -> dict[str, np.ndarray]:
    """:func:`theorem_5_4` at each of ``kernel_sizes``: ``cos``, ``bound``, ``bound_delta`` as kernels × images
    arrays, and the kernel sizes."""
    checks.positive_ints("kernel_sizes", kernel_sizes)
    runs = [theorem_5_4(x, k) for k in kernel_sizes]
    return dict(kernel_sizes=np.array(kernel_sizes),
                **{key: np.stack([r[key].numpy() for r in runs]) for key in ("cos", "bound", "bound_delta")})


def theorem_5_4_figure(sweep: dict[str, np.ndarray]):
    """The measured cos(x, ȳ) of the two-layer variant (solid) and Theorem 5.4's two bounds (dashed, dotted) against
    the kernel size, one colour per image."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    kernels = sweep["kernel_sizes"]
    lines = []
    for i in range(sweep["cos"].shape[1]):
        colour = f"C{i % 10}"
        lines += ax.plot(kernels, sweep["cos"][:, i], "-o", color=colour, ms=3, lw=1.2, label=f"image {i + 1}")
        ax.plot(kernels, sweep["bound"][:, i], "--", color=colour, lw=0.9)
        ax.plot(kernels, sweep["bound_delta"][:, i], ":", color=colour, lw=0.9)
    styles = [ax.plot([], [], "k-o", ms=3)[0], ax.plot([], [], "k--")[0], ax.plot([], [], "k:")[0]]
    ax.add_artist(ax.legend(styles, ["measured cos(x, ȳ)", "bound ⟨x, m⟩/‖x‖²", "bound 1 − ‖δ‖/‖x‖"], fontsize=8,
                            loc="lower left"))
    ax.legend(handles=lines, fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_xticks(kernels)
    ax.set_xlabel("kernel size k"), ax.set_ylabel("cosine"), ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


@torch.no_grad()
def theorem_5_4_values(sweep: dict[str, np.ndarray]) -> dict:
    """The numbers of the chapter's Theorem 5.4 paragraph: the mean cosine at the second and the last kernel size,
    and the smallest gap between the cosine and the tighter bound for k > 1."""
    kernels = sweep["kernel_sizes"]
    second = min(1, len(kernels) - 1)
    return dict(k_second=int(kernels[second]), cos_k_second=float(sweep["cos"][second].mean()),
                k_last=int(kernels[-1]), cos_k_last=float(sweep["cos"][-1].mean()),
                min_gap=float((sweep["cos"] - sweep["bound"])[kernels > 1].min()) if (kernels > 1).any() else 0.0)


def gray_test_images(n: int, size: int, seed: int = 0, data_dir: str = "") -> tuple[torch.Tensor, str]:
    """Theorem 5.4's one-channel non-negative inputs: the chapter's test images (:func:`rdcn.core.data.test_images`)
    in grayscale, B × 1 × H × W float64, and their description."""
    images, text = data.test_images(n, size, seed, data_dir)
    return torch.tensor(metrics.grayscale(images))[:, None], text


@torch.no_grad()
def cosine_bounds(net: arch.CNNDCN, x: torch.Tensor, counts: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """cos(x, ȳ) of the ℓ2 variant ``net`` on one-channel non-negative images ``x`` (B × 1 × H × W) and two lower
    bounds, per image (see the module's note): ``bound``, ours, always a lower bound; ``uniform_bound``, the form of
    the paper's Appendix A.3, which assumes every output pixel has the same routes and is *not* a bound where the
    counts vary (at the borders and, strongly, behind zero-fill upsampling). ``counts``: the net's route counts at
    ``x``'s size, if already computed (:func:`path_counts`)."""
    x = _one_channel_non_negative(x)
    n = path_counts(net, tuple(x.shape[-2:])) if counts is None else counts
    flat = x.flatten(1)
    n_j, r_max = n.sum(0), n.sum(1).max()
    routed = flat @ n  # Σ_i n_ij x_i
    norm2 = (flat * flat).sum(1)
    return dict(cos=cosine(x, limit(net, x)), bound=(flat * routed / n_j.sqrt()).sum(1) / (r_max.sqrt() * norm2),
                uniform_bound=(flat * routed / n_j).sum(1) / norm2)


def cosine_bound_rows(bounds: dict[str, torch.Tensor]) -> list[dict]:
    """The rows of the table of :func:`cosine_bounds`: per image, the cosine, our bound and the paper's form."""
    return [{"image": i + 1, "cos(x, ȳ)": f"{c:.4f}", "our bound": f"{b:.4f}", "paper's form ⟨x, m⟩/‖x‖²": f"{u:.4f}"}
            for i, (c, b, u) in enumerate(zip(bounds["cos"].tolist(), bounds["bound"].tolist(),
                                              bounds["uniform_bound"].tolist()))]
