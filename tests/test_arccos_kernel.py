import math

import numpy as np
import pytest
from scipy import integrate, stats

from rdcn.core import random_weights as rw
from rdcn.he import arccos_kernel as ak


def test_closed_form_values():
    assert ak.arccos_kernel(0.0, 0.3) == pytest.approx(0.3)  # g(0) = c₂
    assert ak.arccos_kernel(math.pi / 2, 0.3) == pytest.approx(0.3 / math.pi)
    assert ak.arccos_kernel(math.pi, 0.3) == pytest.approx(0.0, abs=1e-15)


def test_gaussian_constants_by_quadrature():
    s = 0.015
    c1, c2 = ak.relu_constants("gaussian")
    density = stats.norm(0, s).pdf
    assert c1 == pytest.approx(integrate.quad(lambda z: z * density(z), 0, 20 * s)[0], rel=1e-8)
    assert c2 == pytest.approx(integrate.quad(lambda z: z * z * density(z), 0, 20 * s)[0], rel=1e-8)
    assert ak.relu_constants("gaussian", sigma=0.03) == pytest.approx((2 * c1, 4 * c2))


def test_closed_form_against_the_isotropic_integral():
    # g(θ)/c₂ = (1/π)(sin θ + (π − θ) cos θ) is 4/(2π) ∫ σ(cos φ)σ(cos(φ − θ)) dφ over the circle.
    for theta in np.linspace(0, math.pi, 7):
        integral = integrate.quad(lambda p, t=theta: max(math.cos(p), 0) * max(math.cos(p - t), 0), -math.pi,
                                  math.pi)[0]
        assert ak.arccos_kernel(theta, 1.0) == pytest.approx(4 * integral / (2 * math.pi), abs=1e-9)


@pytest.mark.parametrize("dim, direction", [(2, "axis"), (8, "spread")])
def test_gaussian_monte_carlo_matches_the_closed_form(dim, direction):
    thetas = np.linspace(0, 0.95 * math.pi, 6)
    mean, se = ak.relu_product_monte_carlo("gaussian", thetas, 100_000, 0, dim, direction)
    closed = ak.arccos_kernel(thetas, ak.relu_constants("gaussian")[1])
    assert np.all(np.abs(mean - closed) <= 4 * se)


@pytest.mark.parametrize("name", list(rw.DISTRIBUTIONS))
def test_c2_is_exact_for_every_symmetric_distribution(name):
    # σ(z)² + σ(−z)² = z²: at θ = 0 the isotropic formula holds even for i.i.d. non-Gaussian entries.
    mean, se = ak.relu_product_monte_carlo(name, [0.0], 200_000, 1, 2, "axis")
    assert abs(mean[0] - ak.relu_constants(name)[1]) <= 4 * se[0]


def test_non_gaussian_axis_directions_are_not_isotropic():
    # At θ = π/2 on the axes, E σ(w₁)σ(w₂) = (E σ(w₁))²; isotropy would give c₂/π.
    mean, se = ak.relu_product_monte_carlo("laplace", [math.pi / 2], 200_000, 2, 2, "axis")
    closed = ak.arccos_kernel(math.pi / 2, ak.relu_constants("laplace")[1])
    assert mean[0] / closed == pytest.approx(math.pi / 4, abs=6 * se[0] / closed)  # (b/2)² / (2b²/(2π))


def test_axis_c1_ratios_in_closed_form():
    assert ak.axis_c1_ratio("gaussian") == pytest.approx(1.0)
    assert ak.axis_c1_ratio("uniform") == pytest.approx(math.sqrt(6 * math.pi) / 4)
    assert ak.axis_c1_ratio("laplace") == pytest.approx(math.sqrt(math.pi) / 2)
    assert ak.axis_c1_ratio("logistic") == pytest.approx(math.log(2) * math.sqrt(6 * math.pi) / math.pi)


def test_unit_pairs():
    for direction, dim in [("axis", 3), ("spread", 16)]:
        u, v = ak.unit_pair(1.0, dim, direction)
        assert np.linalg.norm(u) == pytest.approx(1) and np.linalg.norm(v) == pytest.approx(1)
        assert math.acos(u @ v) == pytest.approx(1.0)
    u, _ = ak.unit_pair(0.5, 16, "spread")
    assert np.allclose(np.abs(u), 0.25)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="distribution must be one of"):
        ak.relu_constants("cauchy")
    with pytest.raises(ValueError, match="zero-mean"):
        ak.relu_constants("uniform", low=-0.01, high=0.04)
    with pytest.raises(ValueError, match="direction must be one of"):
        ak.unit_pair(0.1, 2, "diagonal")
    with pytest.raises(ValueError, match="power of two"):
        ak.unit_pair(0.1, 12, "spread")
    with pytest.raises(ValueError, match="dim must be an integer"):
        ak.unit_pair(0.1, 1)
    with pytest.raises(ValueError, match="samples must be an integer"):
        ak.relu_product_monte_carlo("gaussian", [0.1], 1, 0)


def test_lemma_check_replicates_are_independent_and_deterministic():
    check = ak.lemma_check(5, 2_000, 3, seed=4)
    assert check.monte_carlo.shape == check.standard_error.shape == (3, 5)
    assert len({tuple(row) for row in check.monte_carlo}) == 3  # independent seeds
    again = ak.lemma_check(5, 2_000, 3, seed=4)
    assert np.array_equal(check.monte_carlo, again.monte_carlo)
    expected = np.abs(check.monte_carlo - check.closed_form).max(1) / check.c2
    assert np.array_equal(check.max_deviation, expected)
    assert set(check.ratio) == set(rw.DISTRIBUTIONS) and check.ratio["laplace"]["axis"].shape == (4,)  # θ < π
    assert check.c1_axis["gaussian"] == pytest.approx(1.0)
    values = check.values()
    assert values["mc_replicates"] == 3 and values["lemma_deviation"] == pytest.approx(expected.mean())
    assert len(ak.isotropy_rows(check)) == 4 and ak.lemma_figure(check).axes


def test_lemma_check_sees_a_wrong_kernel():
    # The statistic can fail: against the kernel without its sin θ term the deviation is large.
    check = ak.lemma_check(7, 50_000, 2, seed=1)
    wrong = check.c2 * (math.pi - check.thetas) * np.cos(check.thetas) / math.pi
    assert (np.abs(check.monte_carlo - wrong).max(1) / check.c2 > 0.1).all()
    assert (check.max_deviation < 0.03).all()


def test_lemma_check_bad_input():
    with pytest.raises(ValueError, match="angles must be an integer ≥ 2"):
        ak.lemma_check(1, 100, 1, 0)
    with pytest.raises(ValueError, match="replicates must be a positive integer"):
        ak.lemma_check(3, 100, 0, 0)
