"""rdcn.claims.rules: each rule's three states on measurements built to land in each."""
import numpy as np
import pytest

from rdcn.claims import rules


def _samples(center, spread=0.01, replicates=10, seed=0):
    noise = np.random.default_rng(seed).normal(0, spread, (len(center), replicates))
    return np.asarray(center, float).reshape(-1, 1) + noise


def test_equivalent_holds_fails_and_is_inconclusive():
    rule = rules.Equivalent("a", "b", margin=0.1, x="K")
    close = dict(K=[1, 2, 3], a=_samples([0.5, 0.3, 0.2]), b=_samples([0.52, 0.29, 0.2], seed=1))
    assert rule.decide(close).state == rules.HOLDS
    apart = dict(close, b=_samples([0.52, 0.29, 0.5], seed=1))  # K = 3 differs by 0.3
    verdict = rule.decide(apart)
    assert verdict.state == rules.FAILS and "K = 3" in verdict.summary
    assert verdict.statistic == pytest.approx(-0.3, abs=0.02)
    noisy = dict(close, a=_samples([0.5, 0.3, 0.2], spread=0.3, replicates=3))
    assert rule.decide(noisy).state == rules.INCONCLUSIVE
    assert rule.decide(dict(close, a=close["a"][:, :1])).state == rules.INCONCLUSIVE  # one replicate


def test_equivalent_reads_lists_as_stored_in_json():
    rule = rules.Equivalent("a", "b", margin=0.1)
    measured = dict(a=_samples([0.5, 0.3]).tolist(), b=_samples([0.5, 0.3], seed=2).tolist())
    assert rule.decide(measured).state == rules.HOLDS


def test_trend_difference():
    x = [1, 2, 4, 8]
    steep = _samples([0.1, 0.2, 0.3, 0.4], replicates=20)
    flat = _samples([0.2, 0.2, 0.2, 0.2], replicates=20, seed=3)
    rule = rules.TrendDifference("N", "steep", "flat")
    verdict = rule.decide(dict(N=x, steep=steep, flat=flat))
    assert verdict.state == rules.HOLDS and verdict.interval[0] > 0
    assert rule.decide(dict(N=x, steep=flat, flat=steep)).state == rules.FAILS
    same = _samples([0.1, 0.2, 0.3, 0.4], replicates=20, seed=4)
    assert rule.decide(dict(N=x, steep=steep, flat=same)).state == rules.INCONCLUSIVE
    falling = rules.TrendDifference("N", "a", "b", direction="decreasing")
    assert falling.decide(dict(N=x, a=-steep, b=flat)).state == rules.HOLDS


def test_all_of_needs_every_part():
    kept, lost = rules.Within("g", low=0.3, high=1, statistic="mean"), rules.Within("c", -0.1, 0.1, "mean")
    rule = rules.AllOf((kept, lost))
    g, c = np.full(10, 0.6) + np.linspace(0, 0.01, 10), np.linspace(-0.02, 0.02, 10)
    assert rule.decide(dict(g=g, c=c)).state == rules.HOLDS
    assert rule.decide(dict(g=g, c=c + 0.5)).state == rules.FAILS
    assert rule.decide(dict(g=g, c=c * 10 + 0.1)).state == rules.INCONCLUSIVE
    assert "; and " in rule.describe()
    with pytest.raises(TypeError):
        rules.AllOf(())
    with pytest.raises(TypeError):
        rules.AllOf((rule,))
