"""Chapter 1's library (rdcn.he.preliminaries): Table 1, the initializer's distribution tests, the first random
Conv1-DeConv1, and the claims they feed."""
import numpy as np
import pytest
import torch

from rdcn import claims
from rdcn.claims.rules import FAILS, HOLDS
from rdcn.core import random_weights as rw
from rdcn.he import preliminaries as prelim


def test_paper_table_1_is_self_consistent():
    for layer, (channels, (height, width), dimension) in prelim.PAPER_TABLE_1.items():
        assert channels * height * width == dimension, layer


def test_table1_matches_at_227_and_not_at_another_size():
    rows, matches = prelim.table1(227)
    assert matches and [r["layer"] for r in rows] == list(prelim.PAPER_TABLE_1)
    assert claims.get("table1_exact").decide({"matches": matches}).state == HOLDS
    _, other = prelim.table1(224)
    assert not other
    assert claims.get("table1_exact").decide({"matches": other}).state == FAILS


def test_layer_tables_run_the_whole_conv5_deconv5():
    tables = prelim.layer_tables(227)
    assert set(tables) == {"vgg16", "alexnet"}
    vgg = tables["vgg16"]
    assert vgg[0]["shape"] == "64 × 227 × 227" and vgg[-1]["shape"] == "3 × 227 × 227"
    assert not any(row["layer"].endswith("_act") for row in vgg)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_sizes_are_errors_naming_them(bad):
    with pytest.raises(ValueError, match="draws"):
        prelim.draw_distributions(bad, 0)
    with pytest.raises(ValueError, match="size"):
        prelim.table1(bad)


def test_the_initializer_passes_its_tests_and_a_wrong_scale_does_not(monkeypatch):
    rule = claims.get("initializer_matches_distributions")
    draws = prelim.draw_distributions(20_000, 0)
    assert rule.decide(dict(ks_statistic=draws.ks_statistic, ks_critical=draws.ks_critical)).state == HOLDS
    assert len(draws.rows()) == len(rw.DISTRIBUTIONS)

    widen = {"gaussian": {"sigma": 0.018}, "uniform": {"low": -0.048, "high": 0.048}, "logistic": {"scale": 0.018},
             "laplace": {"b": 0.018 / np.sqrt(2)}}  # every scale 20 % too large
    original = rw.randomize_
    monkeypatch.setattr(prelim.rw, "randomize_", lambda module, name, generator: original(
        module, name, generator, **widen[name]))
    wrong = prelim.draw_distributions(20_000, 0)
    assert rule.decide(dict(ks_statistic=wrong.ks_statistic, ks_critical=wrong.ks_critical)).state == FAILS
    assert all(d > c for d, c in zip(wrong.ks_statistic, wrong.ks_critical))


def test_random_conv1_is_seeded_and_measured_on_every_photograph():
    first = prelim.random_conv1(24, 0.25, seed=3)
    again = prelim.random_conv1(24, 0.25, seed=3)
    other = prelim.random_conv1(24, 0.25, seed=4)
    assert torch.equal(first.outputs, again.outputs)
    assert not torch.equal(first.outputs, other.outputs)
    n = len(first.names)
    assert first.outputs.shape == (n, 3, 24, 24) and n >= 3
    for values in (first.r_input, first.r_best_other, first.ssim_input, first.ssim_best_other):
        assert values.shape == (n,) and np.all((values >= 0) & (values <= 1 + 1e-9))
    verdict = claims.get("random_conv1_keeps_geometry").decide(
        dict(r_input=first.r_input, r_best_other=first.r_best_other))
    assert verdict.interval is not None  # decided on replicates, with an interval
    assert first.ssim_verdict().state in ("holds", "does not hold", "inconclusive")


def test_figures_have_one_panel_per_distribution_and_per_image():
    import matplotlib.pyplot as plt

    fig = prelim.distributions_figure(prelim.draw_distributions(500, 0))
    assert len(fig.axes) == len(rw.DISTRIBUTIONS)
    plt.close(fig)
    result = prelim.random_conv1(16, 0.25, seed=0)
    fig = prelim.random_conv1_figure(result)
    assert len(fig.axes) == 3 * len(result.names)
    assert min(text.get_fontsize() for ax in fig.axes for text in (ax.title, ax.xaxis.label)) >= 7
    plt.close(fig)
