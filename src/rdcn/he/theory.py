"""The infinite-width limit ȳ of a random CNN-DCN *variant* (He et al. §5, Definition 5.1; Theorems 5.1 / A.1 and
A.7), computed exactly from the network's own modules, without sampling; and Theorem 5.4's bound.

The variant as rdcn builds it (:func:`variant`): ReLU everywhere, every conv's maps scaled by 1/√N (N its output
channels), ℓ2-norm (Theorem 5.1) or average (Theorem A.7) pooling, zero-fill (or nearest) upsampling, and, in place
of the DCN's last conv, the mean over channels.

**Normalisation.** The mean over channels of maps that are themselves scaled by 1/√N tends to zero; the paper's
limit exists because its Definition 5.1 leaves the layer that feeds the mean unscaled. rdcn scales it (the factor
is the same for every pixel, so no angle or cosine changes), and :func:`limit` returns the paper's ȳ:
``paper_normalised(net, net(x))`` (= √N_{L−1}·y) converges to it almost surely as every width grows.

**ℓ2 pooling: the energy recursion** (Theorem A.1). Let e = Σ_channels X² be a layer's per-pixel energy. By the
law of large numbers over the N i.i.d. channels of a conv layer and Lemma A.2 (:mod:`rdcn.arccos_kernel`),

- conv (kernel, stride, zero padding as the module's): e ← c₂ · (window sum of e);
- ℓ2 pooling: e ← window sum of e (exact at any width: Σ_c Σ_window X_c² = Σ_window e);
- zero-fill / nearest upsampling: e ← the same upsampling of e (it acts on each channel alike);
- the conv feeding the mean, then the mean: ȳ = c₁ √(window sum of e), then any upsampling in between.

So ȳ_j = c₁ c₂^{(n−1)/2} √(Σ_i n_ij x_i²) with n the number of convs and n_ij the number of routes from input
pixel i to output pixel j (Theorem 5.1). Only the *variance* of the filter entries enters before the last conv,
because σ(z)² + σ(−z)² = z², so for every symmetric distribution; the last conv's c₁ is exact for Gaussian filters
and, when that conv follows another (its fan-in N·k² grows), for any i.i.d. finite-variance entries (central limit).

**Average pooling: the covariance recursion** (Theorem A.7). Averages mix pixels, so the energy no longer
suffices: track the Gram matrix K(p, q) = Σ_c X_c(p) X_c(q) over every pair of pixels,

- conv then ReLU: K ← √(Σ_pp Σ_qq) (sin θ_pq + (π − θ_pq) cos θ_pq)/(2π) (Lemma A.2's arc-cosine kernel), where
  Σ_pq = s² Σ_δ K(p + δ, q + δ) (δ over the window's offsets) is the pre-activations' covariance and
  cos θ_pq = Σ_pq / √(Σ_pp Σ_qq) — exact for Gaussian filters;
- average pooling / upsampling: K ← P K Pᵀ, P the (linear) layer applied on both indices;
- last conv and mean: ȳ = c₁ √(window sum of diag K); an average pooling after it acts on that first moment.

Memory grows as (H·W)² per image: fine for the small images the chapter uses (64×64 needs 130 MB per image).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..core import architectures as arch
from ..core.operators import ChannelMean, L2Pool, Scale, ZeroUpsample
from .arccos_kernel import arccos_kernel, relu_constants

METHODS = ("auto", "energy", "covariance")


def variant(layers: arch.Layers, width: int, pooling: str = "l2", upsample: str = "zero") -> arch.CNNDCN:
    """The random CNN-DCN variant of Definition 5.1 for ``layers``, every conv ``width`` channels wide (the input's
    channels kept): ReLU, 1/√N scaling, ``pooling`` (``"l2"`` for Theorem 5.1, ``"avg"`` for A.7, ``"max"`` for the
    §4 experiments, which have no closed-form limit), ``upsample``, the mean over channels last. Weights as torch
    initialises them: draw them with :func:`rdcn.random_weights.randomize_`."""
    return arch.cnn_dcn(arch.same_width(layers, width), "relu", "relu", pooling, upsample, "mean", True)


def _steps(net: arch.CNNDCN, size: tuple[int, int]) -> list[tuple[nn.Module, tuple[int, int] | None]]:
    """The modules of ``net`` in forward order, each upsampling with the size it fills."""
    if not isinstance(net, arch.CNNDCN) or not isinstance(net.decoder, arch.Decoder):
        raise TypeError(f"net must be a CNN-DCN built by rdcn (theory.variant or architectures.cnn_dcn), got "
                        f"{type(net).__name__}")
    chain = arch.shape_chain(net.decoder.layers, tuple(size))
    steps = [(m, None) for m in net.encoder.children()]
    for key, m in net.decoder.steps.items():
        steps.append((m, chain[net.decoder.targets[key]] if key in net.decoder.targets else None))
    return steps


def _check_variant(steps) -> None:
    """Definition 5.1, module by module: a clear error for anything the limit does not cover."""
    modules = [m for m, _ in steps]
    if not isinstance(modules[-1], ChannelMean):
        raise ValueError("the limit needs the variant's last layer, the mean over channels: build the net with "
                         "last='mean' (theory.variant does)")
    if any(isinstance(m, nn.LeakyReLU) for m in modules):
        raise ValueError("activation must be 'relu' for the limit (Definition 5.1), got a leaky ReLU")
    if any(isinstance(m, nn.MaxPool2d) for m in modules):
        raise ValueError("pooling must be one of ['l2', 'avg'] for the limit (Theorems 5.1, A.7): max pooling has no "
                         "closed-form limit")
    for i, m in enumerate(modules):
        if isinstance(m, nn.Conv2d):
            if m.groups != 1 or m.dilation != (1, 1):
                raise ValueError(f"the limit covers plain convolutions (groups 1, dilation 1), got {m}")
            following = modules[i + 1 : i + 3]
            if not (following and isinstance(following[0], Scale)
                    and math.isclose(following[0].factor, 1 / math.sqrt(m.out_channels), rel_tol=1e-9)):
                raise ValueError("the limit needs width_scaling=True (every conv's maps scaled by 1/√N, "
                                 "Definition 5.1); theory.variant builds such a net")
            if len(following) < 2 or not isinstance(following[1], nn.ReLU):
                raise ValueError(f"every conv must be followed by its scaling and a ReLU, got {following}")
        elif not isinstance(m, (Scale, nn.ReLU, L2Pool, nn.AvgPool2d, ZeroUpsample, ChannelMean)):
            raise ValueError(f"the limit does not cover layer {type(m).__name__}")
    last = max(i for i, m in enumerate(modules) if isinstance(m, nn.Conv2d))
    if any(isinstance(m, L2Pool) for m in modules[last:]):
        raise ValueError("an ℓ2 pooling between the last conv and the mean (a block with a single conv, such as "
                         "AlexNet's pool1) has no closed-form limit: the mean of window norms is not a function of "
                         "the energies; use average pooling there")


def _window_sum(e: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Σ over each of ``conv``'s windows of a one-channel map (its zero padding, stride and kernel)."""
    ones = e.new_ones(1, 1, *conv.kernel_size)
    return F.conv2d(e, ones, stride=conv.stride, padding=conv.padding)


def _pads(conv: nn.Conv2d) -> tuple[tuple[int, int], tuple[int, int]]:
    """(before, after) zero padding of each spatial axis, as torch pads ``conv`` (``'same'``: extra pixel after)."""
    if conv.padding == "same":
        return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in conv.kernel_size)  # type: ignore[return-value]
    if conv.padding == "valid":
        return (0, 0), (0, 0)
    return tuple((p, p) for p in conv.padding)  # type: ignore[return-value]


def _window_gram(K: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """Σ_δ K(p + δ, q + δ) over ``conv``'s window offsets δ, for every pair of output pixels p, q: the inner
    products ⟨u_p, u_q⟩ of the conv's input patches, K being B × H × W × H × W."""
    (top, bottom), (left, right) = _pads(conv)
    (kh, kw), (sh, sw) = conv.kernel_size, conv.stride
    padded = F.pad(K, (left, right, top, bottom, left, right, top, bottom))
    h, w = padded.shape[1] - kh + 1, padded.shape[2] - kw + 1
    ho, wo = (h - 1) // sh + 1, (w - 1) // sw + 1
    out = K.new_zeros(K.shape[0], ho, wo, ho, wo)
    for a in range(kh):
        for b in range(kw):
            rows, cols = slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw)
            out += padded[:, rows, cols, rows, cols]
    return out


def _both_sides(K: torch.Tensor, layer: nn.Module, size) -> torch.Tensor:
    """P K Pᵀ for a linear per-channel layer P (pooling or upsampling) applied to both pixel indices of K."""

    def apply(t: torch.Tensor) -> torch.Tensor:  # layer on the last two axes
        lead = t.shape[:-2]
        flat = t.reshape(-1, 1, *t.shape[-2:])
        out = layer(flat) if size is None else layer(flat, size)
        return out.reshape(*lead, *out.shape[-2:])

    right = apply(K)  # B × H × W × h' × w'
    left = apply(right.permute(0, 3, 4, 1, 2))  # B × h' × w' × h' × w' (first index moved last, then back)
    return left.permute(0, 3, 4, 1, 2).contiguous()


def _relu_gram(cov: torch.Tensor) -> torch.Tensor:
    """E σ(a(p))σ(a(q)) for zero-mean Gaussian pre-activations of covariance ``cov`` (B × H × W × H × W):
    √(cov_pp cov_qq) g(θ_pq) with g the arc-cosine kernel of Lemma A.2 at unit variance (c₂ = 1/2)."""
    b, h, w = cov.shape[:3]
    flat = cov.reshape(b, h * w, h * w)
    sd = flat.diagonal(dim1=1, dim2=2).clamp_min(0).sqrt()
    norms = sd[:, :, None] * sd[:, None, :]
    cos = torch.where(norms > 0, flat / norms.clamp_min(1e-300), torch.ones_like(flat)).clamp(-1, 1)
    return (norms * arccos_kernel(torch.arccos(cos), 0.5)).reshape(cov.shape)


def _method(steps, method: str, last: int) -> str:
    """The recursion for ``method``: average pooling before the last conv needs the covariances."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    avg = any(isinstance(m, nn.AvgPool2d) for m, _ in steps[:last])
    l2 = any(isinstance(m, L2Pool) for m, _ in steps)
    if method == "auto":
        return "covariance" if avg else "energy"
    if method == "energy" and avg:
        raise ValueError("method='energy' covers ℓ2 pooling only; average pooling needs method='covariance' "
                         "(Theorem A.7)")
    if method == "covariance" and l2:
        raise ValueError("method='covariance' covers average pooling only; ℓ2 pooling has the energy recursion "
                         "(method='energy', Theorem 5.1)")
    return method


@torch.no_grad()
def limit(net: arch.CNNDCN, x: torch.Tensor, distribution: str = "gaussian", method: str = "auto",
          **params: float) -> torch.Tensor:
    """The infinite-width limit ȳ of the variant ``net`` (as :func:`variant` builds it) on images ``x``
    (B × C × H × W, or C × H × W), filters i.i.d. from ``distribution`` (defaults of :mod:`rdcn.random_weights`,
    ``params`` override): a B × 1 × H × W float64 tensor, in the paper's normalisation (see the module's note).

    ``method``: ``"energy"`` (ℓ2 pooling or none, Theorem 5.1), ``"covariance"`` (average pooling or none, Theorem
    A.7), ``"auto"`` picks by the net's pooling. Only the net's architecture is read, never its weights. Errors
    name what is not covered (max pooling, leaky ReLU, no 1/√N scaling, a conv last layer) and, where the limit
    depends on more than the filters' variance (the first conv's ReLU Gram in the covariance recursion, or a mean
    right after the first conv), a non-Gaussian ``distribution``.
    """
    c1, c2 = relu_constants(distribution, **params)
    x = x[None] if x.ndim == 3 else x
    if x.ndim != 4:
        raise ValueError(f"x must be B × C × H × W (or C × H × W), got shape {tuple(x.shape)}")
    steps = _steps(net, tuple(x.shape[-2:]))
    _check_variant(steps)
    convs = [i for i, (m, _) in enumerate(steps) if isinstance(m, nn.Conv2d)]
    if x.shape[1] != steps[convs[0]][0].in_channels:
        raise ValueError(f"x has {x.shape[1]} channels, the net's first conv takes {steps[convs[0]][0].in_channels}")
    method = _method(steps, method, convs[-1])
    if distribution != "gaussian" and (method == "covariance" or len(convs) == 1):
        raise ValueError(f"distribution {distribution!r}: i.i.d. non-Gaussian filters are not isotropic, and here "
                         "the limit depends on more than their variance (a ReLU Gram or a mean fed by the first "
                         "conv, whose fan-in stays finite); only 'gaussian' is exact. "
                         "arccos_kernel.relu_product_monte_carlo measures the gap")
    x = x.double()
    if method == "covariance":  # image by image: the Gram matrix is (H·W)² per image
        return torch.cat([_propagate(steps, image[None], method, c1, c2) for image in x])
    return _propagate(steps, x, method, c1, c2)


def _propagate(steps, x: torch.Tensor, method: str, c1: float, c2: float) -> torch.Tensor:
    """The recursion of :func:`limit` (see the module's note), layer by layer."""
    state = (x * x).sum(1, keepdim=True) if method == "energy" else torch.einsum("bchw,bcij->bhwij", x, x)
    last = max(i for i, (m, _) in enumerate(steps) if isinstance(m, nn.Conv2d))
    for i, (m, size) in enumerate(steps):
        if isinstance(m, nn.Conv2d):
            if method == "covariance":
                if i < last:  # pre-activation covariance s²⟨u_p, u_q⟩, then the ReLU's Gram
                    state = _relu_gram(2 * c2 * _window_gram(state, m))
                    continue
                b, h, w = state.shape[:3]
                state = state.reshape(b, h * w, h * w).diagonal(dim1=1, dim2=2).reshape(b, 1, h, w)
            state = _window_sum(state, m)
            state = c1 * state.clamp_min(0).sqrt() if i == last else c2 * state
        elif isinstance(m, L2Pool):
            state = m(state.sqrt()) ** 2
        elif i > last:  # first moments, pooled or upsampled like every channel's maps (linear layers)
            if isinstance(m, nn.AvgPool2d):
                state = m(state)
            elif isinstance(m, ZeroUpsample):
                state = m(state, size)
        elif isinstance(m, nn.AvgPool2d):
            state = _both_sides(state, m, None)
        elif isinstance(m, ZeroUpsample):
            state = _both_sides(state, m, size) if method == "covariance" else m(state, size)
    return state


def paper_normalised(net: arch.CNNDCN, y: torch.Tensor) -> torch.Tensor:
    """A variant's output ``y`` in the paper's normalisation: divided by the 1/√N_{L−1} scaling rdcn applies to the
    maps that feed the mean (see the module's note), so that it converges to :func:`limit`'s ȳ."""
    modules = [*net.encoder.children(), *net.decoder.steps.values()]
    scales = [m.factor for m in modules if isinstance(m, Scale)]
    if not scales:
        raise ValueError("the net has no 1/√N scaling (width_scaling=True): its output needs no renormalisation")
    return y / scales[-1]


def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The angle (radians) between each pair of images (leading axis), flattened: 2·atan2(‖â − b̂‖, ‖â + b̂‖),
    accurate down to tiny angles (unlike arccos of the cosine)."""
    a, b = a.double().flatten(1), b.double().flatten(1)
    a, b = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    return 2 * torch.atan2((a - b).norm(dim=1), (a + b).norm(dim=1))


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The cosine between each pair of images (leading axis), flattened (scale-free: no ε floor on the norms, as
    the variant's outputs can be tiny)."""
    a, b = a.double().flatten(1), b.double().flatten(1)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))


def two_layer(kernel_size: int, in_channels: int = 1) -> arch.Layers:
    """The two-layer random CNN of Theorems 5.2 and 5.4: one k×k conv (stride 1, zero 'same' padding) whose maps
    the variant then averages over channels (VGG16's conv1_1 with kernel ``kernel_size``)."""
    return arch.cut(arch.architecture("vgg16", kernel_size=kernel_size, in_channels=in_channels), "conv1_1")


@torch.no_grad()
def theorem_5_4(x: torch.Tensor, kernel_size: int) -> dict[str, torch.Tensor]:
    """Theorem 5.4 on one-channel non-negative images ``x`` (B × 1 × H × W) and an odd kernel k: the measured
    cos(x, ȳ) of the two-layer variant and its lower bounds, per image.

    With m the k×k mean of x around each pixel (zero padding, divisor k²) and δ = x − m, Cauchy–Schwarz gives
    ‖x_{R_j}‖ ≥ k m_j and ‖ȳ‖ ≤ c₁ k ‖x‖, so cos(x, ȳ) ≥ ⟨x, m⟩/‖x‖² (``bound``) = 1 − ⟨x, δ⟩/‖x‖² ≥ 1 − ‖δ‖/‖x‖
    (``bound_delta``, the form that shows δ).
    """
    if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd positive integer (Theorem 5.4's patch has a centre pixel), "
                         f"got {kernel_size!r}")
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"x must be B × 1 × H × W (Theorem 5.4 takes one channel), got shape {tuple(x.shape)}")
    if (x < 0).any():
        raise ValueError("Theorem 5.4 needs non-negative pixels")
    x = x.double()
    ybar = limit(variant(two_layer(kernel_size), 1), x)
    mean = F.conv2d(x, x.new_full((1, 1, kernel_size, kernel_size), 1 / kernel_size**2), padding="same")
    flat, m = x.flatten(1), mean.flatten(1)
    norm2 = (flat * flat).sum(1)
    return dict(cos=cosine(x, ybar), bound=(flat * m).sum(1) / norm2,
                bound_delta=1 - (flat - m).norm(dim=1) / norm2.sqrt())


def path_counts(net: arch.CNNDCN, size: tuple[int, int]) -> torch.Tensor:
    """n_ij of Theorem 5.1 for ``net`` on ``size`` inputs: the number of routes from input pixel i (of one channel)
    to output pixel j, as an (H·W) × (H·W) float64 matrix (row i, column j). Read off the energy recursion, which is
    linear in x² (ȳ² = c₁² c₂^{n−1} Σ_i n_ij x_i², n the number of convs), one basis image per input pixel."""
    h, w = size
    first = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    basis = torch.zeros(h * w, first.in_channels, h, w, dtype=torch.float64)
    basis[:, 0].view(h * w, h * w).fill_diagonal_(1.0)
    c1, c2 = relu_constants("gaussian")
    n_convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    counts = (limit(net, basis, method="energy") / c1) ** 2 / c2 ** (n_convs - 1)
    return counts.reshape(h * w, -1).round()


@torch.no_grad()
def cosine_bounds(net: arch.CNNDCN, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """cos(x, ȳ) of the ℓ2 variant ``net`` on one-channel non-negative images ``x`` (B × 1 × H × W) and two lower
    bounds, per image, from the path counts n_ij (:func:`path_counts`), n_j = Σ_i n_ij, r_i = Σ_j n_ij and the
    path-weighted mean m_j = Σ_i n_ij x_i / n_j:

    - ``bound``: Σ_j √(n_j / max_i r_i) x_j m_j / ‖x‖² — always a lower bound (Cauchy–Schwarz as in Theorem 5.4);
    - ``uniform_bound``: ⟨x, m⟩/‖x‖², the multi-layer form stated in the paper's Appendix A.3 and our SPEC, which
      assumes every output pixel has the same routes (n_j = r_i = n); it is *not* a bound where counts vary, as they
      do at the borders and, strongly, behind zero-fill upsampling.
    """
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"x must be B × 1 × H × W (one channel), got shape {tuple(x.shape)}")
    if (x < 0).any():
        raise ValueError("the bounds need non-negative pixels")
    x = x.double()
    n = path_counts(net, tuple(x.shape[-2:]))
    flat = x.flatten(1)
    n_j, r_max = n.sum(0), n.sum(1).max()
    routed = flat @ n  # Σ_i n_ij x_i
    norm2 = (flat * flat).sum(1)
    return dict(cos=cosine(x, limit(net, x)), bound=(flat * routed / n_j.sqrt()).sum(1) / (r_max.sqrt() * norm2),
                uniform_bound=(flat * routed / n_j).sum(1) / norm2)


def theorem_5_2_bound(width: int, delta: float, distribution: str = "gaussian", **params: float) -> float:
    """Our Theorem 5.2 for the two-layer variant (one conv of N filters, then the mean): with probability ≥ 1 − δ,
    sin θ ≤ √((c₂/c₁² − 1)/(N δ)) (θ the angle between output and ȳ; Markov's inequality on ‖y − ȳ‖², whose mean
    is (c₂ − c₁²)Σ_j‖u_j‖²/N, against ‖ȳ‖² = c₁²Σ_j‖u_j‖²). For the Gaussian c₂/c₁² = π. Returns the bound on θ
    (π/2 where the right side exceeds 1)."""
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    if distribution != "gaussian":
        raise ValueError("the bound's c₁ is exact for 'gaussian' filters only (the two-layer net's fan-in is finite)")
    c1, c2 = relu_constants(distribution, **params)
    s = math.sqrt((c2 / c1**2 - 1) / (width * delta))
    return math.asin(s) if s < 1 else math.pi / 2
