"""rdcn.gilbert.synthetic and rdcn.core.figures.scale_figure: the synthetic experiments' samples and figures, the
scale figure, and the chapter's claims decided on inputs of the shapes the chapter passes."""
import math

import numpy as np
import pytest

from rdcn import claims
from rdcn.claims.rules import Verdict
from rdcn.core import figures
from rdcn.gilbert import synthetic


def test_one_dimensional_sample():
    sample = synthetic.one_dimensional(30, seed=0, supports=3)
    assert sample.trials == 30 and sample.banks == 30
    assert {"rip", "one_step_fixed", "one_step_blind", "delta_k", "delta_2k", "bound"} <= set(sample.values)
    again = synthetic.one_dimensional(30, seed=0, supports=3)
    np.testing.assert_array_equal(sample.values["rip"], again.values["rip"])
    other = synthetic.one_dimensional(30, seed=1, supports=3)
    assert not np.array_equal(sample.values["rip"], other.values["rip"])
    values = synthetic.values_1d(sample)
    assert values["trials"] == "30" and 0 <= values["bound_below_one"] <= 1
    assert values["sqrt_1_plus_K_over_M"] == pytest.approx(2.0)
    record = sample.record()
    assert record["medians"]["rip"] == pytest.approx(sample.median("rip"))
    assert [len(ax.patches) > 0 for ax in synthetic.figure_1d(sample).axes] == [True] * 3
    assert len(synthetic.bound_figure(sample).axes) == 1
    with pytest.raises(ValueError, match="supports"):
        synthetic.one_dimensional(30, seed=0, supports=0)


def test_two_dimensional_sample_per_bank():
    sample = synthetic.two_dimensional(4, banks=2, seed=0)
    assert sample.trials == 4 and sample.banks == 2
    per_bank = sample.per_bank("rip")
    assert per_bank.shape == (2,)
    assert per_bank[0] == pytest.approx(np.median(sample.values["rip"][:2]))
    assert synthetic.values_2d(sample)["banks_2d"] == 2
    assert len(synthetic.figure_2d(sample).axes) == 2


def test_scale_figure():
    verdicts = [Verdict("holds", 0.1, (0.0, 0.2), ""), Verdict("does not hold", 0.5, (0.4, 0.6), ""),
                Verdict("inconclusive", None, None, "too few")]
    fig = figures.scale_figure("width", [0.25, 0.5, 1.0], verdicts, "statistic", (-math.inf, 0.3), logx=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylim()[1] > 0.6
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"holds", "does not hold", "claimed"}
    with pytest.raises(ValueError, match="one verdict per knob value"):
        figures.scale_figure("width", [1], verdicts, "statistic")


def test_the_chapters_claims_decide_on_the_measurements_it_passes():
    rng = np.random.default_rng(0)
    decide = {c.id: c.decide for c in claims.of_chapter("compressive_sensing")}
    assert decide["rip_ratio_centred"](dict(ratios=1 + 0.02 * rng.standard_normal(500))).state == "holds"
    assert decide["rip_ratio_centred"](dict(ratios=1.2 + 0.02 * rng.standard_normal(500))).state == "does not hold"
    assert decide["one_step_error_within_theorem_3_3"](dict(error=[0.2, 0.3], bound=[2.0, 0.25])).state \
        == "does not hold"
    assert decide["iht_random_no_worse_than_learned"](dict(log_error_ratio=[[1.0, 1.1], [0.9, 1.2]])).state \
        == "does not hold"
    assert decide["random_filters_classify_above_chance_below_learned"](
        dict(kept_fraction=[[0.9, 0.8], [0.92, 0.85], [0.88, 0.83]])).state == "holds"
    lead = dict(layers=[1, 2, 3], lead=[[0.01, 0.012, 0.009], [0.05, 0.06, 0.055], [0.1, 0.12, 0.11]])
    assert decide["learned_lead_grows_with_depth"](lead).state == "holds"
    pairs = dict(random=[0.1, 0.2, 0.3, 0.2], learned=[0.4, 0.5, 0.9, 0.6])
    assert decide["random_coherence_below_learned"](pairs).state == "holds"
    density = dict(depth=np.arange(1, 6), density=np.linspace(0.5, 0.1, 5)[:, None] + np.zeros((5, 3)))
    assert decide["learned_density_falls_with_depth"](density).state == "holds"
    for claim in claims.of_chapter("compressive_sensing"):
        assert claim.designed_for and (claim.knob or "book" in claim.designed_for)
