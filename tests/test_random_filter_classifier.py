"""rdcn.gilbert.random_filter_classifier: random vs learned filters (Gilbert et al. Table 1)."""
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from rdcn.core import data, training
from rdcn.gilbert import random_filter_classifier as rfc


def _toy(n=64, seed=0, size=12):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, size, size, generator=gen), torch.randint(3, (n,), generator=gen)


def _tiny_cifar(root, per_batch=20):
    folder = root / data.CIFAR_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in data.CIFAR_FILES[:6]:
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": [i % 10 for i in range(per_batch)]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))


def test_dataset_name_and_cifar10_through_the_safe_reader(tmp_path):
    assert rfc.dataset_name("") == "Fashion-MNIST"
    assert rfc.dataset_name(str(tmp_path)) == "Fashion-MNIST"
    _tiny_cifar(tmp_path)
    assert rfc.dataset_name(str(tmp_path)) == "CIFAR-10"
    x, y = rfc.load_split(True, 30, str(tmp_path), generator=0)
    assert x.shape == (30, 3, 32, 32) and x.dtype == torch.float32 and float(x.max()) <= 1 and y.shape == (30,)
    with pytest.raises(ValueError, match="n must be"):
        rfc.load_split(False, 21, str(tmp_path))  # the test batch holds 20
    with pytest.raises(FileNotFoundError, match="not a folder"):
        rfc.dataset_name(str(tmp_path / "missing"))


def test_a_crafted_cifar_file_is_refused(tmp_path):
    _tiny_cifar(tmp_path)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / data.CIFAR_FOLDER / "test_batch").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(ValueError, match="cannot read the CIFAR-10 file"):
        rfc.load_split(False, 1, str(tmp_path))


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


def test_block_features_are_the_stack_cut_after_each_block():
    x, _ = _toy(10)
    model = rfc.initialise_(rfc.ConvNet(1, 12, (3, 5), 3, "random"), torch.Generator().manual_seed(0)).eval()
    features = rfc.block_features(model, x, "cpu", chunk=4)
    with torch.no_grad():
        torch.testing.assert_close(features[0], model.features[:4](x).flatten(1))
        torch.testing.assert_close(features[1], model.features(x).flatten(1))


def test_schedule_is_epochs_of_cosine_adam():
    plan = rfc.schedule(100, 3, 32, 1e-3)
    assert plan.iterations == 3 * training.iterations_per_epoch(100, 32) and plan.decay == "cosine"
    with pytest.raises(ValueError, match="epochs"):
        rfc.schedule(100, 0, 32, 1e-3)


def test_random_filters_stay_fixed_and_learned_filters_change():
    train, test = _toy(64), _toy(32, seed=1)
    plan = rfc.schedule(64, 2, 16, 1e-2)
    curves = rfc.train_random((4, 4), 3, train, test, plan, seed=0, statistics_images=32)
    assert len(curves) == 2 and all(len(c) == len(rfc.FRACTIONS) for c in curves)
    assert curves[0][0] == pytest.approx(float((test[1] == 0).float().mean()))  # a zero head predicts class 0
    learned = rfc.train_learned((4,), 3, train, test, plan, seed=0)
    assert len(learned) == len(rfc.FRACTIONS) and all(0 <= a <= 1 for a in learned)
    assert learned == rfc.train_learned((4,), 3, train, test, plan, seed=0)  # seeded
    # the random stack's filters are N(0, 1) and do not train
    model = rfc.initialise_(rfc.ConvNet(1, 12, (64,), 3, "random"), torch.Generator().manual_seed(0))
    assert abs(float(model.features[0].weight.std()) - 1) < 0.1 and not model.features[0].weight.requires_grad


def test_compare_on_fashion_mnist_replicates_and_claim_inputs():
    kwargs = dict(depths=(1, 2), widths=(4, 4), kernel=3, train_images=200, test_images=100, epochs=1, batch=50,
                  lr=1e-2, replicates=2, seed=0)
    result = rfc.compare(**kwargs)
    assert result.dataset == "Fashion-MNIST" and result.chance == 0.1 and result.depths == (1, 2)
    assert all(c.shape == (2, 2, len(rfc.FRACTIONS)) for c in result.curves.values())
    assert result.accuracy("random").shape == (2, 2)
    np.testing.assert_allclose(result.learned_lead(), result.accuracy("learned") - result.accuracy("random"))
    kept = result.kept_fraction(depths=(2,))
    expected = (result.accuracy("random")[:, 1] - 0.1) / (result.accuracy("learned")[:, 1] - 0.1)
    np.testing.assert_allclose(kept[:, 0], expected)
    trend = result.lead_trend(0.5)
    assert trend["layers"].tolist() == [1, 2] and trend["lead"].shape == (2, 2)
    assert len(result.table()) == 2 and set(result.values()) >= {"acc_random", "clf_leads", "kept"}
    again = rfc.compare(**kwargs)
    assert all(np.array_equal(result.curves[k], again.curves[k]) for k in rfc.KINDS)  # seeded
    assert not np.array_equal(result.curves["learned"][0], result.curves["learned"][1])  # replicates differ
    with pytest.raises(ValueError, match="depths"):
        rfc.compare(**dict(kwargs, depths=(3,)))
    with pytest.raises(ValueError, match="fraction"):
        result.learned_lead(0.3)
