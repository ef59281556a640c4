"""rdcn.gilbert.compressive_sensing: W as convolutions, the model 𝓜_k, 𝕄, IHT, model-RIP ratios and constants,
Thm 3.3's bound, coherence."""
import math

import pytest
import torch

from rdcn.gilbert import compressive_sensing as cs


def _inner(a, b):
    return float((a.double() * b.double()).sum())


@pytest.mark.parametrize("stride", [1, 2])
def test_measure_and_adjoint_match_the_dense_matrix(stride):
    filters = cs.gaussian_filters(4, 3, 5, generator=0)
    length = 15
    W = cs.dense_matrix(filters, length, stride)
    x = torch.randn(2, 3, length, generator=torch.Generator().manual_seed(1))
    wx = cs.measure(x, filters, stride)
    n = (length - 5) // stride + 1
    assert W.shape == (4 * n, 3 * length) and wx.shape == (2, 4, n)
    torch.testing.assert_close(wx.reshape(2, -1), x.reshape(2, -1) @ W.T)
    z = torch.randn(2, 4, n, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(cs.adjoint(z, filters, length, stride).reshape(2, -1), z.reshape(2, -1) @ W)


def test_one_bank_per_sample_equals_each_bank_alone():
    banks = cs.gaussian_filters(6, 2, 3, dims=2, banks=3, generator=0)
    x = torch.randn(3, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    z = cs.measure(x, banks)
    back = cs.adjoint(z, banks, (8, 8))
    for i in range(3):
        torch.testing.assert_close(z[i : i + 1], cs.measure(x[i : i + 1], banks[i]))
        torch.testing.assert_close(back[i : i + 1], cs.adjoint(z[i : i + 1], banks[i], (8, 8)))


def test_adjoint_is_the_transpose_in_2d():
    filters = cs.gaussian_filters(5, 3, 3, dims=2, generator=0)
    gen = torch.Generator().manual_seed(1)
    x, z = torch.randn(2, 3, 9, 9, generator=gen), torch.randn(2, 5, 7, 7, generator=gen)
    assert math.isclose(_inner(cs.measure(x, filters), z), _inner(x, cs.adjoint(z, filters, (9, 9))), rel_tol=1e-5)


def test_adjoint_rejects_a_size_the_code_cannot_come_from():
    with pytest.raises(ValueError, match="cannot come from"):
        cs.adjoint(torch.zeros(1, 4, 10), cs.gaussian_filters(4, 3, 5), 20)


def test_gaussian_filters_have_unit_rows_in_expectation_and_are_seeded():
    filters = cs.gaussian_filters(2000, 8, 5, generator=3)
    assert abs(float(filters.flatten(1).pow(2).sum(1).mean()) - 1) < 0.02
    torch.testing.assert_close(filters, cs.gaussian_filters(2000, 8, 5, generator=3))
    with pytest.raises(ValueError, match="filters"):
        cs.gaussian_filters(0, 8, 5)
    with pytest.raises(ValueError, match="dims"):
        cs.gaussian_filters(2, 8, 5, dims=3)


@pytest.mark.parametrize("size,pool", [((28,), 28), ((13, 13), 2), ((7, 9), 3)])
def test_random_model_sparse_codes_lie_in_the_model(size, pool):
    k = 5
    z, positions = cs.random_model_sparse(4, 6, size, pool, k, generator=0)
    assert z.shape == (4, 6, *size)
    nonzero = (z != 0).flatten(1).sum(1)
    assert nonzero.tolist() == [k] * 4
    assert float(z.abs().max()) <= 1
    # the non-zeros sit at their blocks' positions (so at most one per block), each inside its block
    assert torch.equal(cs.scatter(cs.gather(z, positions), positions, size), z)
    assert torch.equal(positions, cs.block_argmax(cs.scatter(torch.ones(positions.shape), positions, size), pool))
    again, _ = cs.random_model_sparse(4, 6, size, pool, k, generator=0)
    torch.testing.assert_close(z, again)


def test_random_model_sparse_rejects_impossible_k():
    with pytest.raises(ValueError, match="k must be"):
        cs.random_model_sparse(1, 2, (4,), 2, 5)


def test_blind_projection_keeps_the_largest_magnitude_per_block_then_the_k_largest_blocks():
    b = torch.tensor([[[0.1, -0.9, 0.3, 0.2], [0.5, 0.0, -0.05, 0.4]]])
    z = cs.model_projection(b, 2)
    torch.testing.assert_close(z, torch.tensor([[[0.0, -0.9, 0.3, 0.0], [0.5, 0.0, 0.0, 0.4]]]))
    z2 = cs.model_projection(b, 2, k=2)
    torch.testing.assert_close(z2, torch.tensor([[[0.0, -0.9, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]]]))
    relu = cs.model_projection(b, 2, nonnegative=True)
    torch.testing.assert_close(relu, torch.tensor([[[0.1, 0.0, 0.3, 0.0], [0.5, 0.0, 0.0, 0.4]]]))


def test_projection_at_given_positions_and_fixed_positions():
    b = torch.arange(1.0, 26.0).view(1, 1, 5, 5)
    fixed = cs.fixed_positions(b.shape, 2)
    assert fixed.shape == (1, 1, 3, 3)
    assert fixed.flatten().tolist() == [0, 2, 4, 10, 12, 14, 20, 22, 24]  # top-left of every (ceil-mode) block
    z = cs.model_projection(b, 2, positions=fixed)
    assert torch.equal(z != 0, torch.zeros(5, 5, dtype=torch.bool).index_put_(
        (torch.tensor([0, 0, 0, 2, 2, 2, 4, 4, 4]), torch.tensor([0, 2, 4] * 3)), torch.tensor(True))[None, None])
    with pytest.raises(ValueError, match="positions must have shape"):
        cs.model_projection(b, 2, positions=fixed[..., :2])
    with pytest.raises(ValueError, match="k must be"):
        cs.model_projection(b, 2, k=10)


def test_gather_is_the_adjoint_of_scatter():
    gen = torch.Generator().manual_seed(0)
    positions = cs.block_argmax(torch.randn(2, 3, 7, 7, generator=gen), 2)
    v, b = torch.randn(positions.shape, generator=gen), torch.randn(2, 3, 7, 7, generator=gen)
    assert math.isclose(_inner(cs.scatter(v, positions, (7, 7)), b), _inner(v, cs.gather(b, positions)), rel_tol=1e-6)


def _synthetic_problem(scale=1.0, trials=16):
    filters = scale * cs.gaussian_filters(24, 8, 5, banks=trials, generator=0)
    z, positions = cs.random_model_sparse(trials, 24, (28,), 28, 4, generator=1)
    x = cs.adjoint(z, filters, 32)
    ops = dict(synthesis=lambda c: cs.adjoint(c, filters, 32), analysis=lambda s: cs.measure(s, filters),
               project=lambda b: cs.model_projection(b, 28, 4))
    return x, z, ops


def test_first_unit_step_of_iht_is_the_one_step_reconstruction():
    x, _, ops = _synthetic_problem()
    x_hat = cs.one_step(ops["analysis"](x), ops["synthesis"], ops["project"])
    _, errors = cs.iht(x, iterations=1, **ops)
    torch.testing.assert_close(errors[1], cs.relative_error(x_hat, x))
    assert torch.equal(errors[0], torch.ones(len(x)))


def test_iht_recovers_model_sparse_codes_better_with_more_iterations():
    x, z, ops = _synthetic_problem()
    z_hat, errors = cs.iht(x, iterations=15, **ops)
    assert errors.shape == (16, len(x))
    assert float(errors[-1].median()) < 0.5 * float(errors[1].median())
    assert float(cs.relative_error(z_hat, z).median()) < 0.2


def test_normalized_step_converges_where_the_unit_step_diverges():
    x, _, ops = _synthetic_problem(scale=3.0)
    _, unit = cs.iht(x, iterations=6, **ops)
    _, normalized = cs.iht(x, iterations=6, step="normalized", **ops)
    assert float(unit[-1].median()) > 1
    assert bool((normalized[1:] <= normalized[:-1] + 1e-6).all())  # never grows
    assert float(normalized[-1].median()) < 0.3


def test_iht_rejects_bad_arguments():
    x, _, ops = _synthetic_problem(trials=1)
    with pytest.raises(ValueError, match="iterations"):
        cs.iht(x, iterations=-1, **ops)
    with pytest.raises(ValueError, match="step"):
        cs.iht(x, iterations=1, step="big", **ops)


def test_coherence():
    eye = torch.eye(4).view(4, 1, 2, 2)
    assert cs.coherence(eye) == 0.0 and cs.mean_coherence(eye) == 0.0
    pair = torch.cat([eye, -eye[:1]])  # a filter and its negative
    assert math.isclose(cs.coherence(pair), 1.0)
    assert math.isclose(cs.mean_coherence(pair), 2 / 20)  # 2 of the 5·4 ordered pairs
    with pytest.raises(ValueError, match="at least 2 filters"):
        cs.coherence(torch.ones(1, 3, 3, 3))


def test_random_coherence_is_small_in_high_dimension():
    filters = cs.gaussian_filters(64, 64, 3, dims=2, generator=0)  # 576-dimensional filters
    assert cs.coherence(filters) < 0.25 < cs.coherence(cs.gaussian_filters(64, 3, 3, dims=2, generator=0))


def test_synthetic_ratios_are_seeded_and_centred():
    params = dict(cs.SYNTHETIC_1D, filters=48)
    r = cs.synthetic_ratios(200, 0, **params)
    assert set(r) == {"rip", "gram", "gram_on_support", "one_step_fixed", "one_step_blind", "bank"}
    assert all(len(v) == 200 for v in r.values())
    assert torch.equal(r["bank"], torch.arange(200))  # one bank per trial
    assert abs(float(r["rip"].median()) - 1) < 0.05
    assert abs(float(r["gram_on_support"].median()) - 1) < 0.1
    # all of W x also holds every filter's response elsewhere: about sqrt(1 + K/M) times ‖z‖
    assert abs(float(r["gram"].median()) - math.sqrt(1 + 48 / 32)) < 0.15
    assert float(r["one_step_fixed"].median()) < float(r["one_step_blind"].median())
    again = cs.synthetic_ratios(200, 0, **params)
    torch.testing.assert_close(r["rip"], again["rip"])
    two_d = cs.synthetic_ratios(6, 0, banks=2, reconstruct=False, dims=2, filter_length=3, channels=16, filters=16,
                                length=9, nonzeros=20, pool=2)
    assert set(two_d) == {"rip", "gram", "gram_on_support", "bank"} and len(two_d["rip"]) == 6
    assert two_d["bank"].tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="banks"):
        cs.synthetic_ratios(4, 0, banks=5)
    with pytest.raises(ValueError, match="supports"):
        cs.synthetic_ratios(4, 0, supports=2, dims=2, filter_length=3, channels=4, filters=4, length=9, nonzeros=2,
                            pool=2)


def test_per_dimension():
    assert cs.per_dimension(2, 2) == (2, 2) and cs.per_dimension((3, 1), 2) == (3, 1)
    assert cs.per_dimension([4], 1) == (4,)


def _atom_gram(bank: torch.Tensor, length: int, atoms: list[tuple[int, int]]) -> torch.Tensor:
    """The Gram matrix of the rows (filter, shift) of the dense W: the reference for sampled_rip_constants."""
    W = cs.dense_matrix(bank, length).double()
    n = length - bank.shape[-1] + 1
    rows = W[[f * n + j for f, j in atoms]]
    return rows @ rows.T


def test_sampled_rip_constants_are_the_extreme_eigenvalues_of_sampled_supports():
    bank = cs.gaussian_filters(6, 3, 4, generator=0)
    length, k = 10, 2
    delta_k, delta_2k = cs.sampled_rip_constants(bank, length, k, supports=1, generator=5)
    # redraw the one support the function drew (same generator stream) and compare with the dense W
    gen = torch.Generator().manual_seed(5)
    chosen = torch.rand(1, 1, 6, generator=gen).argsort(-1)[..., : 2 * k][0, 0].tolist()
    shifts = torch.randint(length - 4 + 1, (1, 1, 2 * k), generator=gen)[0, 0].tolist()
    gram = _atom_gram(bank, length, list(zip(chosen, shifts)))
    for order, delta in ((2 * k, delta_2k), (k, delta_k)):
        eigenvalues = torch.linalg.eigvalsh(gram[:order, :order])
        expected = max(float(eigenvalues[-1]) - 1, 1 - float(eigenvalues[0]))
        assert math.isclose(float(delta), expected, rel_tol=1e-5, abs_tol=1e-6)
    assert float(delta_k) <= float(delta_2k) + 1e-12  # interlacing


def test_sampled_rip_constants_are_lower_estimates_that_reach_the_exact_constant():
    """On a bank small enough to enumerate every support of 𝓜_2k (2 of 4 filters, 3 shifts each), the sampled δ_2k
    never exceeds the exact one and reaches it with enough samples."""
    import itertools

    bank = cs.gaussian_filters(4, 2, 3, generator=0)
    length = 5
    exact = 0.0
    for f, g in itertools.combinations(range(4), 2):
        for i, j in itertools.product(range(3), repeat=2):
            eigenvalues = torch.linalg.eigvalsh(_atom_gram(bank, length, [(f, i), (g, j)]))
            exact = max(exact, float(eigenvalues[-1]) - 1, 1 - float(eigenvalues[0]))
    few = float(cs.sampled_rip_constants(bank, length, 1, supports=2, generator=1)[1])
    many = float(cs.sampled_rip_constants(bank, length, 1, supports=2000, generator=1)[1])
    assert few <= exact + 1e-9 and math.isclose(many, exact, rel_tol=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        cs.sampled_rip_constants(bank, length, 3, supports=1)  # 2k = 6 distinct filters of 4
    with pytest.raises(ValueError, match="supports"):
        cs.sampled_rip_constants(bank, length, 1, supports=0)
    with pytest.raises(ValueError, match="shorter"):
        cs.sampled_rip_constants(bank, 2, 1, supports=1)


def test_theorem_3_3_bound():
    assert math.isclose(float(cs.theorem_3_3_bound(0.1, 0.2)), 5 * 0.2 / 0.9 * math.sqrt(1.2 / 0.8))
    assert float(cs.theorem_3_3_bound(0.0, 0.0)) == 0.0
    bound = cs.theorem_3_3_bound(torch.tensor([0.1, 1.0, 0.1]), torch.tensor([0.2, 0.2, 1.5]))
    assert math.isfinite(float(bound[0])) and math.isinf(float(bound[1])) and math.isinf(float(bound[2]))
    with pytest.raises(ValueError, match="non-negative"):
        cs.theorem_3_3_bound(-0.1, 0.2)
    delta = cs.largest_informative_delta_2k()
    assert 0 < delta < 0.2 and math.isclose(float(cs.theorem_3_3_bound(0.0, delta)), 1.0, rel_tol=1e-6)


def test_synthetic_ratios_with_rip_constants_bound_the_one_step_error():
    params = dict(cs.SYNTHETIC_1D, filters=48)
    r = cs.synthetic_ratios(40, 0, supports=5, **params)
    assert {"delta_k", "delta_2k", "bound"} <= set(r)
    torch.testing.assert_close(r["bound"], cs.theorem_3_3_bound(r["delta_k"], r["delta_2k"]))
    assert bool((r["delta_k"] <= r["delta_2k"]).all())
    assert bool((r["one_step_blind"] <= r["bound"]).all())  # Thm 3.3 (the sampled δ only lowers the bound)
