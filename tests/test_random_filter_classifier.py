"""rdcn.random_filter_classifier: random vs learned filters (Gilbert et al. Table 1)."""
import pytest
import torch
from torch import nn

from rdcn.gilbert import random_filter_classifier as rfc


def _toy(n=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 12, 12, generator=gen), torch.randint(3, (n,), generator=gen)


def test_dataset_name(tmp_path):
    assert rfc.dataset_name("") == "Fashion-MNIST"
    assert rfc.dataset_name(str(tmp_path)) == "Fashion-MNIST"
    (tmp_path / rfc.CIFAR_FOLDER).mkdir()
    assert rfc.dataset_name(str(tmp_path)) == "CIFAR-10"
    with pytest.raises(FileNotFoundError, match="not a folder"):
        rfc.dataset_name(str(tmp_path / "missing"))


def test_convnet_shapes_and_bad_arguments():
    model = rfc.ConvNet(1, 12, (4, 6), 3, "random")
    assert model(torch.zeros(2, 1, 12, 12)).shape == (2, 10)
    assert model.head.in_features == 6 * 3 * 3
    assert all(not m.affine for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    with pytest.raises(ValueError, match="kind"):
        rfc.ConvNet(1, 12, (4,), 3, "pretrained")
    with pytest.raises(ValueError, match="widths"):
        rfc.ConvNet(1, 12, (), 3, "random")
    with pytest.raises(ValueError, match="kernel"):
        rfc.ConvNet(1, 12, (4,), 4, "random")
    with pytest.raises(ValueError, match="do not fit"):
        rfc.ConvNet(1, 4, (4, 4, 4), 3, "random")


def test_random_filters_are_standard_normal_and_stay_fixed():
    x, y = _toy()
    model = rfc.ConvNet(1, 12, (64,), 3, "random")
    rfc.initialise_(model, torch.Generator().manual_seed(0))
    weight = model.features[0].weight.clone()
    assert abs(float(weight.std()) - 1) < 0.1 and float(model.features[0].bias.abs().max()) == 0
    rfc.train(model, x, y, epochs=2, batch=16, lr=1e-2, generator=0)
    assert torch.equal(model.features[0].weight, weight)
    assert float(model.head.weight.detach().abs().max()) > 0


def test_learned_filters_change():
    x, y = _toy()
    model = rfc.ConvNet(1, 12, (4,), 3, "learned")
    rfc.initialise_(model, torch.Generator().manual_seed(0))
    start = model.features[0].weight.clone()
    rfc.train(model, x, y, epochs=1, batch=16, lr=1e-2, generator=0)
    assert not torch.allclose(model.features[0].weight, start)


def test_fit_batchnorm_gives_the_population_statistics_layer_by_layer():
    x, _ = _toy(200)
    model = rfc.ConvNet(1, 12, (3, 5), 3, "random")
    rfc.initialise_(model, torch.Generator().manual_seed(0))
    rfc.fit_batchnorm_(model, x, batch=50, device="cpu")
    with torch.no_grad():
        for i, module in enumerate(model.features):
            if isinstance(module, nn.BatchNorm2d):
                out = model.features[: i + 1](x)
                assert float(out.mean(dim=(0, 2, 3)).abs().max()) < 0.05
                assert float((out.var(dim=(0, 2, 3)) - 1).abs().max()) < 0.1


def test_load_split_and_compare_on_fashion_mnist():
    x, y = rfc.load_split(False, 50, generator=0)
    assert x.shape == (50, 1, 28, 28) and float(x.min()) >= 0 and float(x.max()) <= 1 and y.shape == (50,)
    with pytest.raises(ValueError, match="n must be"):
        rfc.load_split(False, 0)
    kwargs = dict(depths=(1, 2), widths=(4, 4), kernel=3, train_images=300, test_images=200, epochs=1, batch=50,
                  lr=1e-2, seed=0)
    result = rfc.compare(**kwargs)
    assert result["dataset"] == "Fashion-MNIST" and result["chance"] == 0.1
    assert set(result["accuracy"]) == {1, 2}
    assert all(set(a) == {"random", "learned"} and all(0 <= v <= 1 for v in a.values())
               for a in result["accuracy"].values())
    assert result == rfc.compare(**kwargs)  # seeded
    with pytest.raises(ValueError, match="depths"):
        rfc.compare(**dict(kwargs, depths=(3,)))
