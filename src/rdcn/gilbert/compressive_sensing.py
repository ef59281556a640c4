"""Random filters as model-based compressive sensing: Gilbert et al. (2017) §2–§4.

One convolutional layer with K filters of length ℓ over M channels is a matrix W (Kn × MD: every filter at every
one of the n shifts of a length-D signal). Here W is never formed: ``W x`` is a (valid, stride-t) convolution
(:func:`measure`, ``conv1d``/``conv2d``) and ``Wᵀ z`` its transpose (:func:`adjoint`, ``conv_transpose``). Only for
tiny 1-D cross-checks does :func:`dense_matrix` build W.

- **Model sparsity** (their §3.1): a code z (K channels of n shifts) is cut into *blocks*, the windows of a
  non-overlapping max pooling (ceil mode, so every shift lies in one block); z ∈ 𝓜_k has at most one non-zero per
  block and k non-zeros in all. In the 1-D model the pooling is global: one block per filter.
- **𝕄(b, k)** (their Algorithm 1, :func:`model_projection`): keep one entry per block — at the block's largest
  |b| (what ReLU + max pooling computes on the filter pairs (w, −w) of their Prop. 1: *blind*), at the pooling
  switches of a forward pass (𝕄_known), or at positions fixed in advance (𝕄_fixed) — then the k largest blocks.
- **IHT** (their Algorithm 1, after Blumensath & Davies; :func:`iht`): z₀ = 0, d = x; repeat b = z + μΦᵀd,
  z = 𝕄(b, k), d = x − Φz, with Φ = Wᵀ. One step from z₀ = 0 with μ = 1 is one CNN layer and its transpose,
  x̂ = Wᵀ𝕄(Wx, k) (:func:`one_step`), whose error their Thm 3.3 bounds by
  5δ_{2k}/(1 − δ_k)·√((1 + δ_{2k})/(1 − δ_{2k}))·‖x‖ (:func:`theorem_3_3_bound`).
- **Model-RIP** (their §3.2, Thm 3.1): Gaussian filters scaled 1/√(Mℓ^d) (:func:`gaussian_filters`) keep
  ‖Wᵀz‖ ≈ ‖z‖ on 𝓜_k; :func:`synthetic_ratios` samples the ratios of their Fig. 3 in 1-D and 2-D, and
  :func:`sampled_rip_constants` estimates a 1-D bank's δ_k and δ_2k from the Gram matrices of sampled supports.
- **Coherence** (their Table 4 reports it without a definition): :func:`coherence` is the mutual coherence
  of a layer's filters, max_{i≠j} |⟨w_i, w_j⟩| / (‖w_i‖‖w_j‖), each filter a vector of M·ℓ^d weights.

Tensors: signals ``x`` are B×M×(D,)^d, codes ``z`` B×K×(n,)^d, filter banks K×M×(ℓ,)^d shared by the batch or
B×K×M×(ℓ,)^d (one bank per sample, run as one grouped convolution).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F

from ..core import checks
from ..core.random_weights import as_generator

#: Gilbert et al. §4.1, the 1-D synthetic experiment: ℓ = 5, M = 32, K = 96, D = 32, k = 10, stride 1.
SYNTHETIC_1D = dict(dims=1, filter_length=5, channels=32, filters=96, length=32, nonzeros=10, pool=None)
#: Their 2-D model-RIP check with conv(5,2)-shaped filters: ℓ = 3, K = M = 512, D = 15, 2×2 pooling. The paper's
#: k is not in our sources: we use the 1-D experiment's density of non-zero blocks, 10/96, of the 512·7·7 blocks.
SYNTHETIC_2D = dict(dims=2, filter_length=3, channels=512, filters=512, length=15, pool=2,
                    nonzeros=round(512 * 7 * 7 * 10 / 96))


def _dims(t: torch.Tensor) -> int:
    dims = t.ndim - 2
    if dims not in (1, 2):
        raise ValueError(f"expected a B×C×D (1-D) or B×C×H×W (2-D) tensor, got shape {tuple(t.shape)}")
    return dims


def per_dimension(value, dims: int) -> tuple[int, ...]:
    """``value`` as one integer per spatial dimension: a tuple or list as given, a number repeated ``dims`` times
    (a pooling window ``2`` in 2-D is ``(2, 2)``)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def gaussian_filters(filters: int, channels: int, length: int, dims: int = 1, banks: int | None = None,
                     generator: int | torch.Generator = 0) -> torch.Tensor:
    """K filters of M channels and length ℓ (ℓ×ℓ in 2-D), i.i.d. N(0, 1/(M ℓ^dims)): the scaling of Gilbert et al.
    Thm 3.1, which gives every row of W unit norm in expectation. With ``banks``, that many independent banks
    (banks×K×M×ℓ^dims)."""
    for name, value in (("filters", filters), ("channels", channels), ("length", length)):
        checks.positive_int(name, value)
    checks.choice("dims", dims, (1, 2))
    shape = (filters, channels) + (length,) * dims
    if banks is not None:
        shape = (checks.positive_int("banks", banks),) + shape
    return torch.randn(shape, generator=as_generator(generator)) / math.sqrt(channels * length ** dims)


def _grouped(t: torch.Tensor, filters: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """A per-sample filter bank as one grouped convolution: (B, C, ...) → (1, B·C, ...), groups = B."""
    if filters.ndim == t.ndim:  # one bank shared by the batch
        return t, filters, 1
    if filters.ndim != t.ndim + 1 or filters.shape[0] != t.shape[0]:
        raise ValueError(f"filters must be K×M×ℓ… (shared) or B×K×M×ℓ… (one bank per sample, B = {t.shape[0]}), "
                         f"got shape {tuple(filters.shape)}")
    return t.reshape(1, -1, *t.shape[2:]), filters.reshape(-1, *filters.shape[2:]), t.shape[0]


def measure(x: torch.Tensor, filters: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """W x: every filter at every shift (a valid convolution, stride ``stride``): B×M×D… → B×K×n…, n = (D − ℓ)/t + 1."""
    conv = F.conv1d if _dims(x) == 1 else F.conv2d
    xs, w, groups = _grouped(x, filters)
    out = conv(xs, w, stride=stride, groups=groups)
    return out.reshape(x.shape[0], -1, *out.shape[2:])


def adjoint(z: torch.Tensor, filters: torch.Tensor, size, stride: int = 1) -> torch.Tensor:
    """Wᵀ z: the transposed convolution, back to signals of spatial size ``size`` (D, or (H, W)): B×K×n… → B×M×D…."""
    dims = _dims(z)
    size = per_dimension(size, dims)
    ell = filters.shape[-dims:]
    extra = tuple(s - ((n - 1) * stride + k) for s, n, k in zip(size, z.shape[2:], ell))
    if any(not 0 <= e < stride for e in extra):
        raise ValueError(f"a code of spatial size {tuple(z.shape[2:])} cannot come from a signal of size {size} "
                         f"with filters of size {tuple(ell)} and stride {stride}")
    conv_t = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
    zs, w, groups = _grouped(z, filters)
    out = conv_t(zs, w, stride=stride, output_padding=extra, groups=groups)
    return out.reshape(z.shape[0], -1, *out.shape[2:])


def dense_matrix(filters: torch.Tensor, length: int, stride: int = 1) -> torch.Tensor:
    """The matrix W (Kn × MD) of one 1-D filter bank (K×M×ℓ), row (k, j) = filter k at shift j·stride, columns in
    (channel, position) order: for tiny cross-checks of :func:`measure` and :func:`adjoint` only."""
    if filters.ndim != 3:
        raise ValueError(f"dense_matrix takes one 1-D filter bank K×M×ℓ, got shape {tuple(filters.shape)}")
    K, M, ell = filters.shape
    n = (length - ell) // stride + 1
    if n < 1:
        raise ValueError(f"length {length} is shorter than the filters ({ell})")
    W = filters.new_zeros(K, n, M, length)
    for j in range(n):
        W[:, j, :, j * stride : j * stride + ell] = filters
    return W.reshape(K * n, M * length)


def _pool_ops(dims: int):
    return (F.max_pool1d, F.max_unpool1d) if dims == 1 else (F.max_pool2d, F.max_unpool2d)


def blocks(size, pool) -> tuple[int, ...]:
    """Blocks per spatial dimension of a code of spatial ``size`` pooled by ``pool`` (ceil mode)."""
    return tuple(math.ceil(n / p) for n, p in zip(size, pool))


def block_argmax(b: torch.Tensor, pool, nonnegative: bool = False) -> torch.Tensor:
    """Flat spatial index of the largest |b| (largest b if ``nonnegative``: ReLU then max) in every block: the
    switches of a max pooling with kernel = stride = ``pool`` (ceil mode), B×K×blocks…"""
    dims = _dims(b)
    pool = per_dimension(pool, dims)
    max_pool, _ = _pool_ops(dims)
    return max_pool(b if nonnegative else b.abs(), pool, pool, ceil_mode=True, return_indices=True)[1]


def fixed_positions(shape, pool, offset=0) -> torch.Tensor:
    """The position fixed in advance in every block: ``offset`` (per dimension, clipped to the block) from each
    block's first shift — 0 is the top-left of He et al.'s and Dosovitskiy & Brox's zero-fill unpooling.
    ``shape`` = (B, K, *spatial); returns flat spatial indices, B×K×blocks…"""
    B, K, *size = shape
    dims = len(size)
    pool, offset = per_dimension(pool, dims), per_dimension(offset, dims)
    coords = [torch.clamp(torch.arange(nb) * p + o, max=n - 1) for nb, p, o, n in
              zip(blocks(size, pool), pool, offset, size)]
    grid = torch.meshgrid(*coords, indexing="ij")
    flat = grid[0] if dims == 1 else grid[0] * size[1] + grid[1]
    return flat.expand(B, K, *flat.shape).contiguous()


def gather(b: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The entries of ``b`` at ``positions`` (flat spatial indices, B×K×blocks…): the adjoint of :func:`scatter`."""
    return b.flatten(2).gather(2, positions.flatten(2)).view(positions.shape)


def scatter(values: torch.Tensor, positions: torch.Tensor, size) -> torch.Tensor:
    """A code of spatial ``size``, zero but for ``values`` at ``positions`` (an unpooling)."""
    out = values.new_zeros(*values.shape[:2], math.prod(size))
    return out.scatter_(2, positions.flatten(2), values.flatten(2)).view(*values.shape[:2], *size)


def model_projection(b: torch.Tensor, pool, k: int | None = None, positions: torch.Tensor | None = None,
                     nonnegative: bool = False) -> torch.Tensor:
    """𝕄(b, k) of Gilbert et al. Algorithm 1: one entry per block (pooling window ``pool``, ceil mode) — at
    ``positions`` if given (𝕄_known: a forward pass's pooling switches; 𝕄_fixed: :func:`fixed_positions`), else
    at the block's largest |b| (blind) — clipped at 0 if ``nonnegative`` (a ReLU code), then the ``k`` largest
    blocks of each sample (all if ``k`` is None). Returns a code of ``b``'s shape in 𝓜_k."""
    dims = _dims(b)
    pool = per_dimension(pool, dims)
    if positions is None:
        positions = block_argmax(b, pool, nonnegative)
    elif positions.shape != (*b.shape[:2], *blocks(b.shape[2:], pool)):
        raise ValueError(f"positions must have shape {(*b.shape[:2], *blocks(b.shape[2:], pool))} (one per block), "
                         f"got {tuple(positions.shape)}")
    values = gather(b, positions)
    if nonnegative:
        values = values.clamp_min(0)
    if k is not None:
        total = values[0].numel()
        _check_k(k, total)
        flat = values.flatten(1)
        keep = torch.zeros_like(flat, dtype=torch.bool).scatter_(1, flat.abs().topk(k, dim=1).indices, True)
        values = (flat * keep).view_as(values)
    return scatter(values, positions, b.shape[2:])


def random_model_sparse(batch: int, filters: int, size, pool, k: int,
                        generator: int | torch.Generator = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random codes of 𝓜_k (K = ``filters`` channels of spatial ``size``, blocks = ``pool`` windows):
    every block gets a position uniform within it, k blocks chosen uniformly without replacement carry a value
    from U[−1, 1] there (their §4.1). Returns (codes, positions of every block), the latter for 𝕄_fixed."""
    gen = as_generator(generator)
    size = per_dimension(size, len(per_dimension(size, 1)))
    dims = len(size)
    pool = per_dimension(pool, dims)
    nb = blocks(size, pool)
    n_blocks = filters * math.prod(nb)
    _check_k(k, n_blocks)
    coords = []
    for d in range(dims):  # uniform within each block's extent (the last block of a ceil-mode pooling is shorter)
        start = torch.arange(nb[d]) * pool[d]
        extent = torch.clamp(size[d] - start, max=pool[d])
        shape = [1] * dims
        shape[d] = nb[d]
        u = torch.rand(batch, filters, *nb, generator=gen)
        coords.append(start.view(shape) + (u * extent.view(shape)).long())
    positions = coords[0] if dims == 1 else coords[0] * size[1] + coords[1]
    chosen = torch.rand(batch, n_blocks, generator=gen).argsort(dim=1)[:, :k]
    values = torch.zeros(batch, n_blocks).scatter_(1, chosen, 2 * torch.rand(batch, k, generator=gen) - 1)
    return scatter(values.view(positions.shape), positions, size), positions


def _check_k(k: int, blocks_in_all: int) -> int:
    if checks.positive_int("k", k) > blocks_in_all:
        raise ValueError(f"k must be an integer in [1, {blocks_in_all}] (the number of blocks), got {k!r}")
    return k


def _norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)


def relative_error(estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """‖estimate − target‖ / ‖target‖ per sample."""
    return _norm(estimate - target) / _norm(target)


def one_step(measurement: torch.Tensor, synthesis: Callable, project: Callable) -> torch.Tensor:
    """x̂ = Φ 𝕄(W x) from a layer's ``measurement`` W x = Φᵀx: one CNN layer (W, then 𝕄 = ReLU + max pooling)
    and its transpose (Gilbert et al. Thm 3.3; the first iterate of Algorithm 1 with μ = 1)."""
    return synthesis(project(measurement))


def sampled_rip_constants(filters: torch.Tensor, length: int, k: int, supports: int,
                          generator: int | torch.Generator = 0, chunk: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimates of the model-RIP constants δ_k and δ_2k (Gilbert et al. §3.2) of 1-D filter banks with global
    pooling (one block per filter: the synthetic model of their §4.1), one pair per bank of ``filters`` (B×K×M×ℓ,
    or one bank K×M×ℓ) acting on signals of ``length`` D.

    A support S of 𝓜_2k is 2k distinct filters, each at one of the n = D − ℓ + 1 shifts. On it ‖Wᵀz‖² = zᵀ G_S z,
    with G_S the Gram matrix of the atoms (filter f placed at its shift in an M×D signal), so over the codes on S
    the ratio ‖Wᵀz‖²/‖z‖² spans exactly [λ_min(G_S), λ_max(G_S)]. δ_2k is the largest max(λ_max − 1, 1 − λ_min) over
    ``supports`` supports drawn uniformly (filters without replacement, shifts uniform); δ_k the same over their
    first k atoms (supports of 𝓜_k; by interlacing, fewer atoms can only narrow the spectrum). Maxima over sampled
    supports are *lower* estimates of the constants, which are suprema over every support. Returns (δ_k, δ_2k),
    two B-vectors (float64)."""
    bank = filters if filters.ndim == 4 else filters[None]
    if bank.ndim != 4:
        raise ValueError(f"filters must be one 1-D bank K×M×ℓ or banks B×K×M×ℓ, got shape {tuple(filters.shape)}")
    n_banks, n_filters, channels, ell = bank.shape
    shifts = checks.positive_int("length", length) - ell + 1
    if shifts < 1:
        raise ValueError(f"length {length} is shorter than the filters ({ell})")
    atoms_per_support = 2 * _check_k(k, n_filters // 2)
    checks.positive_int("supports", supports)
    gen = as_generator(generator)

    def delta(gram: torch.Tensor) -> torch.Tensor:
        eigenvalues = torch.linalg.eigvalsh(gram.double())
        return torch.maximum(eigenvalues[..., -1] - 1, 1 - eigenvalues[..., 0]).amax(-1)

    deltas_k, deltas_2k = [], []
    for start in range(0, n_banks, chunk):
        w = bank[start : start + chunk]
        b = len(w)
        chosen = torch.rand(b, supports, n_filters, generator=gen).argsort(-1)[..., :atoms_per_support]
        at = torch.randint(shifts, (b, supports, atoms_per_support), generator=gen)
        picked = w[torch.arange(b)[:, None, None], chosen]  # b×supports×2k×M×ℓ
        index = (at[..., None, None] + torch.arange(ell)).expand_as(picked)
        atoms = picked.new_zeros(*picked.shape[:-1], length).scatter_(-1, index, picked).flatten(-2)
        gram = atoms @ atoms.transpose(-1, -2)
        deltas_k.append(delta(gram[..., : atoms_per_support // 2, : atoms_per_support // 2]))
        deltas_2k.append(delta(gram))
    return torch.cat(deltas_k), torch.cat(deltas_2k)


def theorem_3_3_bound(delta_k, delta_2k) -> torch.Tensor:
    """Gilbert et al. Thm 3.3's bound on the one-step error ‖x̂ − x‖/‖x‖ of x = Wᵀz, z ∈ 𝓜_k:
    5δ_2k/(1 − δ_k)·√((1 + δ_2k)/(1 − δ_2k)), elementwise (float64); infinite where δ_k ≥ 1 or δ_2k ≥ 1, where the
    theorem says nothing. Negative constants are an error."""
    dk = torch.as_tensor(delta_k, dtype=torch.float64)
    d2k = torch.as_tensor(delta_2k, dtype=torch.float64)
    if bool((dk < 0).any()) or bool((d2k < 0).any()):
        raise ValueError(f"the RIP constants δ_k and δ_2k are non-negative, got {delta_k!r} and {delta_2k!r}")
    valid = (dk < 1) & (d2k < 1)
    dk, d2k = torch.where(valid, dk, 0.0), torch.where(valid, d2k, 0.0)  # keep the arithmetic finite
    return torch.where(valid, 5 * d2k / (1 - dk) * torch.sqrt((1 + d2k) / (1 - d2k)), torch.inf)


def largest_informative_delta_2k() -> float:
    """The largest δ_2k at which Thm 3.3's bound can fall below 1 (at δ_k = 0, its most favourable case): above
    it the bound exceeds the error of the reconstruction x̂ = 0 and says nothing."""
    from scipy.optimize import brentq

    return float(brentq(lambda d: float(theorem_3_3_bound(0.0, d)) - 1, 1e-9, 1 - 1e-9))


@torch.no_grad()
def iht(x: torch.Tensor, synthesis: Callable, analysis: Callable, project: Callable, iterations: int,
        step: float | str = 1.0, backtracks: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Model-based iterative hard thresholding, Gilbert et al. Algorithm 1: z₀ = 0, then ``iterations`` times
    b = z + μ Φᵀ(x − Φz), z = 𝕄(b), with Φ = ``synthesis``, Φᵀ = ``analysis``, 𝕄 = ``project``.

    ``step``: a number μ (1 is their Algorithm 1 for a model-RIP Φ), or ``"normalized"``: the normalised IHT of
    Blumensath & Davies (2010) for a Φ of arbitrary scale — per sample μ = ‖g_Γ‖²/‖Φ g_Γ‖², g the gradient Φᵀ(x − Φz)
    restricted to the support Γ of z (of 𝕄(g) at the first step), the exact line search on Γ, halved up to
    ``backtracks`` times while the residual would grow (a sample that cannot improve keeps its z).

    Returns (z, errors): the last code and the relative error ‖x − Φz_t‖/‖x‖ for t = 0 … ``iterations``, a
    (iterations + 1)×B tensor (row 0 is 1: z₀ = 0)."""
    checks.non_negative_int("iterations", iterations)
    normalized = isinstance(step, str) and step == "normalized"
    if not normalized:
        if isinstance(step, str):
            raise ValueError(f"step must be a positive number or 'normalized', got {step!r}")
        checks.positive_number("step", step)
    x_norm = _norm(x)
    residual = x.clone()
    z = torch.zeros_like(analysis(x))
    errors = [torch.ones(x.shape[0], dtype=x.dtype, device=x.device)]

    def per_sample(v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return v.view(-1, *[1] * (t.ndim - 1))

    for _ in range(iterations):
        g = analysis(residual)
        if not normalized:
            z = project(z + step * g)
            residual = x - synthesis(z)
        else:
            started = (z != 0).flatten(1).any(1)
            support = torch.where(per_sample(started, z), z != 0, project(g) != 0)
            g_support = g * support
            mu = _norm(g_support) ** 2 / _norm(synthesis(g_support)).clamp_min(1e-30) ** 2
            current = _norm(residual)
            improved = torch.zeros_like(current, dtype=torch.bool)
            for _ in range(backtracks + 1):
                candidate = project(z + per_sample(mu, g) * g)
                candidate_residual = x - synthesis(candidate)
                better = (_norm(candidate_residual) <= current) & ~improved
                z = torch.where(per_sample(better, z), candidate, z)
                residual = torch.where(per_sample(better, x), candidate_residual, residual)
                improved |= better
                if bool(improved.all()):
                    break
                mu = torch.where(improved, mu, mu / 2)
        errors.append(_norm(residual) / x_norm)
    return z, torch.stack(errors)


def _cosines(weight: torch.Tensor) -> torch.Tensor:
    if weight.ndim < 2 or weight.shape[0] < 2:
        raise ValueError(f"coherence needs a bank of at least 2 filters (K×…), got shape {tuple(weight.shape)}")
    w = weight.detach().flatten(1).double()
    w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-300)
    gram = (w @ w.T).abs()
    return gram[~torch.eye(len(w), dtype=torch.bool, device=gram.device)]


def coherence(weight: torch.Tensor) -> float:
    """Mutual coherence of a layer's filters: max over pairs i ≠ j of |⟨w_i, w_j⟩|/(‖w_i‖‖w_j‖), each filter
    (K×M×ℓ… weight) flattened to a vector of M·ℓ^d weights (the quantity of Gilbert et al. Table 4, defined
    by us: it matches their random-filter values, ≈ 0.67 at conv(1,1) and ≈ 0.06 at conv(5,3))."""
    return float(_cosines(weight).max())


def mean_coherence(weight: torch.Tensor) -> float:
    """The mean of the same |cosines| over all pairs i ≠ j (a less extreme summary than the max)."""
    return float(_cosines(weight).mean())


def synthetic_ratios(trials: int, generator: int | torch.Generator = 0, banks: int | None = None, chunk: int = 100,
                     dims: int = 1, filter_length: int = 5, channels: int = 32, filters: int = 96, length: int = 32,
                     nonzeros: int = 10, pool: int | None = None, reconstruct: bool = True,
                     supports: int = 0) -> dict[str, torch.Tensor]:
    """Gilbert et al. §4.1 (and their 2-D check): ``trials`` codes z ∈ 𝓜_k (:func:`random_model_sparse`), x = Wᵀz
    with Gaussian W (:func:`gaussian_filters`; valid convolution, stride 1, n = D − ℓ + 1; blocks = ``pool``
    windows, global if None), and per trial:

    - ``rip``: ‖Wᵀz‖/‖z‖ (the model-RIP ratio);
    - ``gram``: ‖WWᵀz‖/‖z‖, all of Wx;
    - ``gram_on_support``: ‖(WWᵀz)_S‖/‖z‖, Wx read on z's support S (W_Sᵀ W_S z: the Gram matrix the RIP bounds);
    - ``one_step_fixed``: ‖x̂ − x‖/‖x‖, x̂ = Wᵀ𝕄_fixed(Wx, k), the block positions known in advance;
    - ``one_step_blind``: the same with the blind 𝕄 (largest |·| per block, as ReLU + max pooling of (w, −w));
    - ``delta_k``, ``delta_2k``, ``bound``: with ``supports`` > 0 (1-D, global pooling only), the trial's bank's
      RIP constants estimated from that many sampled supports (:func:`sampled_rip_constants`) and Thm 3.3's bound
      at them (:func:`theorem_3_3_bound`);
    - ``bank``: the index of the trial's filter bank.

    The one-step errors only with ``reconstruct``. ``banks``: independent filter banks (default: one per trial);
    trials are spread evenly over them and run ``chunk`` at a time."""
    gen = as_generator(generator)
    banks = trials if banks is None else banks
    checks.positive_int("trials", trials)
    if checks.positive_int("banks", banks) > trials:
        raise ValueError(f"banks must lie in [1, trials = {trials}], got {banks!r}")
    checks.non_negative_int("supports", supports)
    if supports and (dims != 1 or pool is not None):
        raise ValueError("supports (the RIP constants' estimate) needs the 1-D model with global pooling (pool=None)")
    n = length - filter_length + 1
    pool = n if pool is None else pool
    size = (n,) * dims
    keys = ("rip", "gram", "gram_on_support") + (("one_step_fixed", "one_step_blind") if reconstruct else ())
    keys += ("delta_k", "delta_2k", "bound") if supports else ()
    out: dict[str, list] = {key: [] for key in keys + ("bank",)}
    per_bank = [len(part) for part in torch.arange(trials).tensor_split(banks)]
    shared = banks < trials
    for index, count in enumerate(per_bank):
        bank = gaussian_filters(filters, channels, filter_length, dims, None if shared else count, gen)
        out["bank"].append(torch.full((count,), index))
        if supports:
            delta_k, delta_2k = sampled_rip_constants(bank, length, nonzeros, supports, gen)
            delta_k, delta_2k = delta_k.expand(count), delta_2k.expand(count)
            out["delta_k"].append(delta_k)
            out["delta_2k"].append(delta_2k)
            out["bound"].append(theorem_3_3_bound(delta_k, delta_2k))
        for start in range(0, count, chunk):
            m = min(chunk, count - start)
            w = bank if shared else bank[start : start + m]
            z, positions = random_model_sparse(m, filters, size, pool, nonzeros, gen)
            x = adjoint(z, w, (length,) * dims)
            wx = measure(x, w)
            z_norm = _norm(z)
            out["rip"].append(_norm(x) / z_norm)
            out["gram"].append(_norm(wx) / z_norm)
            out["gram_on_support"].append(_norm(wx * (z != 0)) / z_norm)
            if not reconstruct:
                continue
            for key, pos in (("one_step_fixed", positions), ("one_step_blind", None)):
                x_hat = one_step(wx, partial(adjoint, filters=w, size=(length,) * dims),
                                 partial(model_projection, pool=pool, k=nonzeros, positions=pos))
                out[key].append(relative_error(x_hat, x))
    return {key: torch.cat(values) for key, values in out.items()}
