import math

import numpy as np
import pytest
import torch

from rdcn import claims
from rdcn.core import architectures as arch
from rdcn.core import seeds
from rdcn.core.random_weights import randomize_
from rdcn.he import finite_width as fw
from rdcn.he import theory

CONV1 = arch.cut(arch.architecture("vgg16"), "pool1")
TWO = theory.two_layer(3, in_channels=3)
X = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(0))


def test_outputs_are_the_variants_built_one_by_one():
    outs = fw.outputs(CONV1, (4, 8), 3, X, seed=5)
    assert set(outs) == {4, 8} and outs[8].shape == (3, 2, 1, 12, 12) and outs[8].dtype == torch.float64
    net = randomize_(theory.variant(CONV1, 8), "gaussian", fw.network_seeds(5, CONV1, 8, 3)[2])
    with torch.no_grad():
        alone = theory.paper_normalised(net, net(X)).double()
    assert torch.allclose(outs[8][2], alone, rtol=1e-5, atol=1e-5 * alone.abs().max().item())
    again = fw.outputs(CONV1, (4, 8), 3, X, seed=5)
    assert all(torch.equal(outs[w], again[w]) for w in outs)  # determinism


def test_network_seeds_come_from_the_one_seeding_scheme():
    assert fw.network_seeds(5, CONV1, 8, 3) == seeds.derive_many(5, 3, "variant", fw.architecture_key(CONV1), 8)
    assert fw.network_seeds(5, CONV1, 8, 5)[:3] == fw.network_seeds(5, CONV1, 8, 3)
    found = {s for seed in (0, 1) for layers in (CONV1, TWO) for width in (4, 8, 2048)
             for s in fw.network_seeds(seed, layers, width, 3)}
    assert len(found) == 2 * 2 * 3 * 3
    assert fw.architecture_key(CONV1) == fw.architecture_key(arch.same_width(CONV1, 64))  # widths do not enter


def test_poolings_share_the_filters_of_a_seed():
    a = fw.outputs(TWO, (8,), 2, X, pooling="l2")[8]  # no pooling at all: every pooling gives the same network
    b = fw.outputs(TWO, (8,), 2, X, pooling="max")[8]
    assert torch.equal(a, b)


def test_angles_and_the_approach_to_the_limit():
    ybar = theory.limit(theory.variant(CONV1, 1), X)
    ang = fw.angles(fw.outputs(CONV1, (4, 256), 4, X), ybar)
    assert ang[4].shape == (4, 2)
    assert ang[256].mean() < ang[4].mean() / 3
    assert fw.angles({1: ybar[None]}, ybar)[1] == pytest.approx(0, abs=1e-7)


def test_loglog_slope_recovers_a_power_law():
    widths = (4, 16, 64, 256)
    rng = np.random.default_rng(0)
    angles = {w: 3.0 * w**-0.5 * np.exp(rng.normal(0, 0.01, (5, 2))) for w in widths}
    fit = fw.loglog_slope(angles)
    assert fit["slope"] == pytest.approx(-0.5, abs=0.01) and fit["intercept"] == pytest.approx(np.log(3), abs=0.02)
    with pytest.raises(ValueError, match="two widths"):
        fw.loglog_slope({4: angles[4]})


def test_sweep_keeps_what_the_outputs_give():
    ybar = theory.limit(theory.variant(TWO, 1), X)
    result = fw.sweep("two-layer", TWO, (4, 16), 3, X, {"limit": ybar, "again": ybar}, seed=2, ssim=True)
    outs = fw.outputs(TWO, (4, 16), 3, X, seed=2)
    for width in (4, 16):
        assert np.array_equal(result.angles["limit"][width], fw.angles(outs, ybar)[width])
        assert np.array_equal(result.angles["again"][width], result.angles["limit"][width])
        y = outs[width]
        error = width * ((y - ybar) ** 2).sum((2, 3, 4)) / (ybar**2).sum((1, 2, 3))
        assert np.allclose(result.scaled_error[width], error.numpy())
        assert torch.equal(result.examples[width], y[0, 0, 0]) and result.ssim[width].shape == (3, 2)
    assert torch.equal(result.widest_mean, outs[16].mean(0)) and result.widest == 16
    assert result.per_network(widths=(16,)).shape == (1, 3)
    assert result.per_network(widths=()).shape == (0, 3)
    assert np.allclose(result.cosines()[4], np.cos(result.angles["limit"][4]))
    values = fw.convergence_values(result, ybar)
    assert values["widest"] == 16 and values["cos_widest_min"] <= values["cos_widest"] <= 1
    assert set(result.record()) == {"limit", "again", "ssim"}


def test_small_angle_widths_and_bound_exceedance():
    assert fw.small_angle_widths((4, 16, 21, 22, 64)) == (22, 64)  # (π − 1)/N ≤ 0.1
    ybar = theory.limit(theory.variant(TWO, 1), X)
    result = fw.sweep("two-layer", TWO, (4, 64), 3, X, {"limit": ybar})
    loose = {4: math.pi / 2, 64: np.array([1.0, 1.0])}
    found = fw.bound_exceedance(result, loose)
    assert found["widths"] == (64,) and np.array_equal(found["exceeded"], np.zeros((1, 3)))
    tight = fw.bound_exceedance(result, {4: math.pi / 2, 64: 0.0})
    assert np.array_equal(tight["exceeded"], np.ones((1, 3)))
    assert fw.bound_exceedance(result, {4: math.pi / 2, 64: math.pi / 2})["exceeded"].shape == (0, 3)


def test_slope_scale_figure_decides_the_claim_rule_per_smallest_width():
    ybar = theory.limit(theory.variant(TWO, 1), X)
    result = fw.sweep("two-layer", TWO, (16, 64, 256), 3, X, {"limit": ybar})
    claim = claims.get("multilayer_angle_slope_half")
    verdicts = fw.slope_by_smallest_width(result, claim.rule)
    assert set(verdicts) == {16, 64}
    direct = claim.rule.decide(dict(width=(64, 256), angle=result.per_network("limit", (64, 256))))
    assert verdicts[64] == direct
    assert fw.slope_scale_figure(result, claim).axes


def test_figures_and_values_of_the_chapter():
    ybar = theory.limit(theory.variant(CONV1, 1), X)
    l2 = fw.sweep("ℓ2", CONV1, (4, 8), 2, X, {"limit": ybar})
    two = fw.sweep("two-layer", TWO, (4, 8), 2, X, {"limit": theory.limit(theory.variant(TWO, 1), X)})
    assert fw.limit_images_figure(X, ybar, l2).axes and fw.cosine_figure(l2).axes
    assert fw.angles_figure([two, l2], {"bound": {4: math.pi / 2, 8: 1.0}}, 0.1).axes
    values = fw.rate_values(two, l2, {4: math.pi / 2, 8: 1.0}, {4: np.full(2, math.pi / 2), 8: np.full(2, 1.2)})
    assert values["bound_ratio"] == pytest.approx(1.0 / two.angles["limit"][8].mean())
    assert values["sq_err_n"] == 4 and values["regime_widths"] == "none"
    avg_limits = {"limit": theory.limit(theory.variant(CONV1, 1, "avg"), X), "l2": ybar}
    avg = fw.sweep("avg", CONV1, (4, 8), 2, X, avg_limits, pooling="avg")
    assert fw.average_pooling_figure(avg).axes
    assert fw.average_pooling_values(avg, avg_limits)["cos_avg_l2"] <= 1
    by_law = fw.cosine_by_distribution(CONV1, l2, 1, X, ybar)
    assert set(by_law) == {"gaussian", "uniform", "logistic", "laplace"} and by_law["laplace"].shape == (1, 2)
    assert len(fw.distribution_rows(by_law)) == 4


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="networks must be a positive integer"):
        fw.outputs(CONV1, (4,), 0, X)
    with pytest.raises(ValueError, match="widths must be a positive integer"):
        fw.outputs(CONV1, (0,), 1, X)
    with pytest.raises(ValueError, match="count must be a positive integer"):
        fw.network_seeds(0, CONV1, 4, 0)
    with pytest.raises(ValueError, match="targets must name at least one limit"):
        fw.sweep("none", CONV1, (4,), 1, X, {})
