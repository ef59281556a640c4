"""The rules of chapter 4's claims (rdcn.claims.theory) decide synthetic measurements as their statements say."""
import numpy as np

from rdcn import claims
from rdcn.claims.rules import FAILS, HOLDS, INCONCLUSIVE

RNG = np.random.default_rng(0)


def _decide(claim_id, **measured):
    return claims.get(claim_id).decide(measured).state


def test_every_chapter_4_claim_has_a_real_rule_and_a_scale_knob_where_needed():
    for claim in claims.of_chapter("theory"):
        assert type(claim.rule).__name__ != "Exact", claim.id
        assert "book" in claim.designed_for or claim.knob, claim.id


def test_slope_claims():
    widths = np.array([64, 256, 1024, 4096])
    half = 0.4 * widths[:, None] ** -0.5 * np.exp(RNG.normal(0, 0.05, (4, 30)))
    steep = 0.4 * widths[:, None] ** -1.0 * np.exp(RNG.normal(0, 0.05, (4, 30)))
    for claim_id in ("angle_slope_half", "multilayer_angle_slope_half"):
        assert _decide(claim_id, width=widths, angle=half) == HOLDS
        assert _decide(claim_id, width=widths, angle=steep) == FAILS
        assert _decide(claim_id, width=(), angle=np.zeros((0, 30))) == INCONCLUSIVE


def test_bound_claims_count_exceedances():
    for claim_id in ("theorem_5_2_bound_holds", "theorem_5_3_bound_holds"):
        assert _decide(claim_id, exceeded=np.zeros((3, 10))) == HOLDS
        assert _decide(claim_id, exceeded=np.full((3, 10), 0.5)) == FAILS
        assert _decide(claim_id, exceeded=np.zeros((0, 10))) == INCONCLUSIVE


def test_monte_carlo_and_convergence_claims():
    assert _decide("lemma_a2_monte_carlo", max_deviation=RNG.uniform(0.002, 0.008, 10)) == HOLDS
    assert _decide("lemma_a2_monte_carlo", max_deviation=RNG.uniform(0.05, 0.08, 10)) == FAILS
    assert _decide("limit_matches_wide_network", cos_widest=RNG.uniform(0.995, 0.999, 10)) == HOLDS
    assert _decide("limit_matches_wide_network", cos_widest=RNG.uniform(0.9, 0.95, 10)) == FAILS


def test_deterministic_and_trend_claims():
    cos = np.array([[1.0, 1.0], [0.9, 0.95], [0.8, 0.9]])
    assert _decide("theorem_5_4_bound_holds", lower=cos - 0.1, upper=cos) == HOLDS
    assert _decide("theorem_5_4_bound_holds", lower=cos + 0.01, upper=cos) == FAILS
    kernels = np.array([1, 3, 5, 7, 9])
    falling = 1 - 0.01 * kernels[:, None] * np.ones((5, 4))
    assert _decide("cos_falls_with_kernel", kernel_size=kernels, cos=falling) == HOLDS
    assert _decide("cos_falls_with_kernel", kernel_size=kernels, cos=2 - falling) == FAILS
    assert _decide("corrected_multilayer_bound_holds", bound=[0.9, 0.8], cos=[0.95, 0.85]) == HOLDS
    assert _decide("corrected_multilayer_bound_holds", bound=[0.96, 0.8], cos=[0.95, 0.85]) == FAILS
