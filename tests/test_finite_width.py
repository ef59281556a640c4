import numpy as np
import pytest
import torch

from rdcn.core import architectures as arch
from rdcn.core.random_weights import randomize_
from rdcn.he import finite_width as fw
from rdcn.he import theory

CONV1 = arch.cut(arch.architecture("vgg16"), "pool1")
X = torch.rand(2, 3, 12, 12, generator=torch.Generator().manual_seed(0))


def test_outputs_are_the_variants_built_one_by_one():
    outs = fw.outputs(CONV1, (4, 8), 3, X, seed=5)
    assert set(outs) == {4, 8} and outs[8].shape == (3, 2, 1, 12, 12) and outs[8].dtype == torch.float64
    net = randomize_(theory.variant(CONV1, 8), "gaussian", fw.network_seed(5, 8, 2))
    with torch.no_grad():
        alone = theory.paper_normalised(net, net(X)).double()
    assert torch.allclose(outs[8][2], alone, rtol=1e-5)
    again = fw.outputs(CONV1, (4, 8), 3, X, seed=5)
    assert all(torch.equal(outs[w], again[w]) for w in outs)  # determinism


def test_poolings_share_the_filters_of_a_seed():
    two = theory.two_layer(3, 3)  # no pooling at all: every pooling gives the same network
    a = fw.outputs(two, (8,), 2, X, pooling="l2")[8]
    b = fw.outputs(two, (8,), 2, X, pooling="max")[8]
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


def test_seeds_are_distinct_and_checked():
    seeds = {fw.network_seed(s, w, i) for s in (0, 1) for w in (4, 8, 2048) for i in (0, 1, 29)}
    assert len(seeds) == 18
    with pytest.raises(ValueError, match="index must lie in"):
        fw.network_seed(0, 4, 10_000)
    with pytest.raises(ValueError, match="networks must be a positive integer"):
        fw.outputs(CONV1, (4,), 0, X)
