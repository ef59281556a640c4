"""rdcn.gilbert.layer_statistics: activation density, coherence, distance from the start; Tables 2 and 4."""
import numpy as np
import pytest
import torch
from torch import nn

from rdcn.core import architectures as A
from rdcn.core import random_weights as rw
from rdcn.gilbert import layer_statistics as ls


def _vgg(width=1 / 16, seed=0):
    return rw.randomize_(A.build_encoder(A.architecture("vgg16", width=width)), "gaussian", seed)


def _images(n=2, size=18, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_activation_density_per_conv_and_image():
    encoder = _vgg()
    density = ls.activation_density(encoder, _images(3))
    assert list(density) == [c.name for c in A.convs(A.architecture("vgg16"))]
    assert all(v.shape == (3,) and ((v > 0) & (v < 1)).all() for v in density.values())
    with torch.no_grad():
        encoder.conv1_1.bias.fill_(-1e6)  # every conv1_1 unit off
    assert (ls.activation_density(encoder, _images(3))["conv1_1"] == 0).all()
    with pytest.raises(ValueError, match="no convolution followed by a ReLU"):
        ls.activation_density(nn.Sequential(nn.Identity()), _images())


def test_layer_coherence_names_every_conv():
    coherence = ls.layer_coherence(_vgg(1 / 8))
    assert list(coherence) == [c.name for c in A.convs(A.architecture("vgg16"))]
    assert all(0 < c["mean"] < c["max"] <= 1 for c in coherence.values())
    with pytest.raises(ValueError, match="no convolution"):
        ls.layer_coherence(nn.Sequential(nn.ReLU()))


def test_relative_change():
    start, moved = _vgg(seed=0), _vgg(seed=0)
    with torch.no_grad():
        moved.conv1_1.weight.mul_(1.5)
    change = ls.relative_change(moved, start)
    assert change["conv1_1"] == pytest.approx(0.5) and change["conv5_3"] == 0.0
    with pytest.raises(ValueError, match="initial must have"):
        ls.relative_change(moved, _vgg(width=1 / 8))


def test_measure_and_claim_inputs():
    x = _images(2)
    learned, randoms = ls.measure(_vgg(seed=1), x), [ls.measure(_vgg(seed=s), x) for s in (2, 3)]
    trend = ls.density_trend(learned)
    assert trend["depth"].tolist() == list(range(1, 14)) and trend["density"].shape == (13, 2)
    pairs = ls.coherence_pairs(learned, randoms)
    assert pairs["learned"].shape == pairs["random"].shape == (13,)
    assert pairs["random"][0] == pytest.approx(np.mean([r.coherence["conv1_1"] for r in randoms]))
    table2 = ls.table2(learned, randoms[0])
    assert len(table2) == 13 and table2[0]["learned (paper, ImageNet)"] == 0.491
    assert len(ls.table4(learned, randoms)) == 13
    values = ls.values(learned, randoms)
    assert values["coherence_count"].endswith("of 13")
    with pytest.raises(ValueError, match="randoms"):
        ls.coherence_pairs(learned, [])


def test_training_figure_has_one_line_per_snapshot():
    x = _images(1)
    stats = {"0": ls.measure(_vgg(seed=1), x), "all": ls.measure(_vgg(seed=2), x)}
    fig = ls.training_figure(stats, ls.measure(_vgg(seed=3), x))
    assert [len(ax.lines) for ax in fig.axes] == [3, 3]
