"""The infinite-width limit ȳ of a random CNN-DCN *variant* (He et al. §5, Definition 5.1; Theorems 5.1 / A.1 and
A.7), computed exactly from the network's own modules, without sampling.

The variant as rdcn builds it (:func:`variant`): ReLU everywhere, every conv's maps scaled by 1/√N (N its output
channels), ℓ2-norm (Theorem 5.1) or average (Theorem A.7) pooling, zero-fill (or nearest) upsampling, and, in place
of the DCN's last conv, the mean over channels.

**Normalisation.** The mean over channels of maps that are themselves scaled by 1/√N tends to zero; the paper's
limit exists because its Definition 5.1 exempts one layer from the scaling, which must be the layer that feeds the
mean. rdcn scales it (the factor is the same for every pixel, so no angle or cosine changes), and :func:`limit`
returns the paper's ȳ: ``paper_normalised(net, net(x))`` (= √N_{L−1}·y) converges to it almost surely as every
width grows.

**ℓ2 pooling: the energy recursion** (Theorem A.1). Let e = Σ_channels X² be a layer's per-pixel energy. By the
law of large numbers over the N i.i.d. channels of a conv layer and Lemma A.2 (:mod:`rdcn.he.arccos_kernel`),

- conv (kernel, stride, zero padding as the module's): e ← c₂ · (window sum of e);
- ℓ2 pooling: e ← window sum of e (exact at any width: Σ_c Σ_window X_c² = Σ_window e);
- zero-fill / nearest upsampling: e ← the same upsampling of e (it acts on each channel alike);
- the conv feeding the mean, then the mean: ȳ = c₁ √(window sum of e), then any upsampling in between.

Every step but the last square root is linear in e (:func:`energy_steps` lists them, for the finite-width bounds of
:mod:`rdcn.he.bounds`). So ȳ_j = c₁ c₂^{(n−1)/2} √(Σ_i n_ij x_i²) with n the number of convs and n_ij the number of
routes from input pixel i to output pixel j (Theorem 5.1). Only the *variance* of the filter entries enters before
the last conv, because σ(z)² + σ(−z)² = z², so for every symmetric distribution; the last conv's c₁ is exact for
Gaussian filters and, when that conv follows another (its fan-in N·k² grows), for any i.i.d. finite-variance
entries (central limit).

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
from collections.abc import Callable
from typing import NamedTuple

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


def _sum_pool(e: torch.Tensor, pool: L2Pool) -> torch.Tensor:
    """Σ over each of ``pool``'s windows of a one-channel map: what ℓ2 pooling does to energies (linear in e)."""
    return F.avg_pool2d(e, pool.kernel, pool.stride, ceil_mode=pool.ceil_mode, divisor_override=1)


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
            state = _sum_pool(state, m)
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


class EnergyStep(NamedTuple):
    """One layer of the energy recursion up to the conv that feeds the mean: ``apply`` is the linear map the layer
    applies to a B × 1 × H × W energy map (a conv's window sum, before its factor c₂; an ℓ2 pooling's window sum;
    an upsampling's placement), ``conv`` whether the layer is a conv (whose N random channels add noise at finite
    width), ``last`` whether it is the conv feeding the mean."""

    module: nn.Module
    apply: Callable[[torch.Tensor], torch.Tensor]
    conv: bool
    last: bool


def energy_steps(net: arch.CNNDCN, size: tuple[int, int]) -> list[EnergyStep]:
    """The linear steps of the energy recursion of the ℓ2 variant ``net`` on ``size`` inputs (Theorem A.1; see the
    module's note), in forward order, ending with the conv that feeds the mean. Errors for nets the recursion does
    not cover (see :func:`limit`), and for any layer between that conv and the mean (the finite-width bounds of
    :mod:`rdcn.he.bounds` need the conv to feed the mean directly)."""
    steps = _steps(net, tuple(size))
    _check_variant(steps)
    last = max(i for i, (m, _) in enumerate(steps) if isinstance(m, nn.Conv2d))
    if _method(steps, "auto", last) != "energy":
        raise ValueError("the energy recursion covers ℓ2 pooling (or none); average pooling needs the covariance "
                         "recursion of Theorem A.7")
    if any(not isinstance(m, (Scale, nn.ReLU, ChannelMean)) for m, _ in steps[last + 1 :]):
        raise ValueError("the conv feeding the mean must be followed only by its scaling, ReLU and the mean")
    result = []
    for i, (m, size_) in enumerate(steps[: last + 1]):
        if isinstance(m, nn.Conv2d):
            result.append(EnergyStep(m, lambda e, m=m: _window_sum(e, m), True, i == last))
        elif isinstance(m, L2Pool):
            result.append(EnergyStep(m, lambda e, m=m: _sum_pool(e, m), False, False))
        elif isinstance(m, ZeroUpsample):
            result.append(EnergyStep(m, lambda e, m=m, s=size_: m(e, s), False, False))
    return result


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
