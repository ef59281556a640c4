import math

import numpy as np
import pytest
import torch
from torch import nn

from rdcn.core import random_weights as rw


@pytest.mark.parametrize("name", list(rw.DISTRIBUTIONS))
def test_sample_mean_and_std_match_the_distribution(name):
    x = rw.sample(name, (200_000,), 0).double().numpy()
    ref = rw.scipy_distribution(name)
    n = len(x)
    assert abs(x.mean() - ref.mean()) < 4 * ref.std() / math.sqrt(n)
    assert x.std() == pytest.approx(ref.std(), rel=0.02)


def test_expected_standard_deviations():
    assert rw.scipy_distribution("gaussian").std() == pytest.approx(0.015)
    assert rw.scipy_distribution("uniform").std() == pytest.approx(0.04 / math.sqrt(3))
    assert rw.scipy_distribution("logistic").std() == pytest.approx(0.015 * math.pi / math.sqrt(3))
    assert rw.scipy_distribution("laplace").std() == pytest.approx(0.015)  # b = 0.015/√2: the Gaussian's std


def test_uniform_stays_in_its_half_open_interval():
    x = rw.sample("uniform", (100_000,), 1)
    assert x.min() >= -0.04 and x.max() < 0.04


def test_same_seed_same_weights_and_zero_biases():
    def net():
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 5))

    for name in rw.DISTRIBUTIONS:
        a, b, c = rw.randomize_(net(), name, 3), rw.randomize_(net(), name, 3), rw.randomize_(net(), name, 4)
        for pa, pb in zip(a.parameters(), b.parameters()):
            assert torch.equal(pa, pb)
        assert not torch.equal(a[0].weight, c[0].weight)
        assert all(torch.count_nonzero(m.bias) == 0 for m in (a[0], a[2]))


def test_params_override_the_defaults():
    x = rw.sample("gaussian", (100_000,), 0, sigma=0.05).numpy()
    assert np.std(x) == pytest.approx(0.05, rel=0.02)


@pytest.mark.parametrize("call, match", [
    (lambda: rw.sample("cauchy", (3,), 0),
     r"distribution must be one of \['gaussian', 'uniform', 'logistic', 'laplace'\]"),
    (lambda: rw.sample("gaussian", (3,), 0, scale=1.0), r"unknown parameter\(s\) \['scale'\].*allowed: \['sigma'\]"),
    (lambda: rw.sample("gaussian", (3,), 0, sigma=-0.1), r"'sigma' must be a finite positive number"),
    (lambda: rw.sample("gaussian", (3,), 0, sigma=float("inf")), r"'sigma' must be a finite positive number"),
    (lambda: rw.sample("uniform", (3,), 0, low=float("-inf")), r"'low' must be a finite number"),
    (lambda: rw.sample("gaussian", (3,), "1"), r"seed must be a non-negative integer"),
    (lambda: rw.sample("uniform", (3,), 0, low=0.1, high=0.0), r"low < high"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_seed_must_be_an_int_or_generator():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        rw.randomize_(nn.Conv2d(1, 1, 1), "gaussian", 0.5)
