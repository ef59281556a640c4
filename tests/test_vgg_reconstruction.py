"""rdcn.gilbert.vgg_reconstruction: Table 3 (IHT from pool(1)–pool(4)) and the random encoders' width sweep."""
import numpy as np
import pytest
import torch

from rdcn.gilbert import cnn_iht
from rdcn.gilbert import vgg_reconstruction as vr


def _images(n=2, size=16, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_random_vggs_are_seeded_and_distinct():
    a, b = vr.random_vggs(1 / 16, 2, seed=0)
    again = vr.random_vggs(1 / 16, 2, seed=0)[0]
    assert torch.equal(a.conv1_1.weight, again.conv1_1.weight)
    assert not torch.equal(a.conv1_1.weight, b.conv1_1.weight)
    assert float(a.conv1_1.bias.abs().max()) == 0 and abs(float(a.conv3_1.weight.std()) - 0.015) < 0.002
    with pytest.raises(ValueError, match="replicates"):
        vr.random_vggs(1 / 16, 0, seed=0)
    with pytest.raises(ValueError, match="width"):
        vr.random_vgg(-1.0, 0)


def test_variants():
    x, colour = _images(), _images(seed=1)
    assert set(vr.variants(x)) == {"known", "fixed"}
    out = vr.variants(x, colour)
    assert out["colour"][0] is colour and out["colour"][1] == "known" and out["fixed"] == (x, "fixed")


def test_table3_matches_cnn_iht_and_summarises_replicates():
    x = _images()
    learned, *randoms = vr.random_vggs(1 / 16, 3, seed=0)
    table = vr.table3({"learned": [learned], "random": randoms}, vr.variants(x), iterations=2)
    assert table.encoders == ["learned", "random"] and table.variants == ["known", "fixed"]
    errors = table.errors["random", "known", "pool2"]
    assert errors.shape == (2, 3, 2)  # replicates × (T + 1) × images
    direct = cnn_iht.reconstruct(randoms[1], "pool2", x, 2, "known")[1]
    torch.testing.assert_close(errors[1], direct)
    assert table.final("random", "known", "pool2") == pytest.approx(float(errors[:, -1].mean()))
    assert table.final_errors("random").shape == (2, 4, 2)
    rows = {row["encoder"]: row for row in table.rows()}
    assert len(rows) == len(table.one_step_rows()) + 3 and rows["learned (paper)"]["pool1"] == 0.423
    ratios = table.ratios()
    pool1 = table.final("random", "known", "pool1") / table.final("learned", "known", "pool1")
    assert ratios[0] == pytest.approx(pool1)
    assert table.values()["colour_ratios"] == "not measured"
    assert table.images["learned", "known", "pool1"].shape == x.shape
    fig = table.images_figure(x, lambda t: t)
    assert len(fig.axes) == 2 * 2 * 5
    one = vr.table3({"learned": [learned]}, {"known": (x, "known")}, iterations=1, shown=1)
    assert one.images["learned", "known", "pool4"].shape == (1, *x.shape[1:])
    assert len(one.images_figure(x, lambda t: t).axes) == 1 * 5
    assert len(table.curves_figure().axes) == 4


def test_width_sweep_reuses_the_learned_width_and_log_ratio():
    x = _images(1)
    learned, *randoms = vr.random_vggs(1 / 16, 3, seed=0)
    table = vr.table3({"learned": [learned], "random": randoms}, vr.variants(x), iterations=1)
    sweep = vr.width_sweep((1 / 32, 1 / 16), 2, 5, x, 1, table, 1 / 16)
    assert sweep.widths == [1 / 32, 1 / 16]
    np.testing.assert_array_equal(sweep.random[1 / 16], table.final_errors("random"))
    assert sweep.random[1 / 32].shape == (2, 4, 1)
    expected = np.log(table.final_errors("random") / table.final_errors("learned")).mean(1)
    np.testing.assert_allclose(sweep.log_ratio(1 / 16), expected)
    assert len(sweep.rows()) == 3 and "sweep_pool1" in sweep.values()
