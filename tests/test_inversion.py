"""The chapter-2 experiments (rdcn.inversion): encoders, image sets, feature scale, cached DCNs, paper config."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from rdcn.core import architectures
from rdcn.he import inversion

TINY = dict(iterations=2, batch=2, train_images=4, eval_images=3, curve_images=2, eval_every=1, checkpoint_every=1)


def test_paper_scale_restores_the_full_width_fan_in():
    full = architectures.cut(architectures.architecture("vgg16"), "conv2")
    assert inversion.paper_scale(full, "vgg16") == [1.0] * 4
    quarter = architectures.cut(architectures.architecture("vgg16", width=0.25), "conv2")
    assert inversion.paper_scale(quarter, "vgg16") == pytest.approx([1.0, 2.0, 2.0, 2.0])


def test_random_encoder_draws_the_scaled_distribution_with_zero_biases():
    layers = architectures.cut(architectures.architecture("vgg16", width=0.25), "conv1")
    encoder = inversion.random_encoder("vgg16", layers, "uniform", seed=3)
    assert encoder.conv1_1.weight.abs().max() < 0.04 and encoder.conv1_2.weight.abs().max() > 0.04
    assert encoder.conv1_2.weight.abs().max() < 0.08 and float(encoder.conv1_2.bias.abs().sum()) == 0
    again = inversion.random_encoder("vgg16", layers, "uniform", seed=3)
    assert torch.equal(encoder.conv1_2.weight, again.conv1_2.weight)
    with pytest.raises(ValueError, match="distribution must be one of"):
        inversion.random_encoder("vgg16", layers, "cauchy")


def test_unit_rms_removes_the_scale_sigma_puts_on_the_features():
    layers = architectures.cut(architectures.architecture("vgg16", width=0.125), "conv2")
    x = torch.rand(4, 3, 16, 16)
    small, rms_small = inversion.unit_rms(inversion.random_encoder("vgg16", layers, sigma=0.01), x)
    large, rms_large = inversion.unit_rms(inversion.random_encoder("vgg16", layers, sigma=0.05), x)
    assert float(small(x).pow(2).mean().sqrt()) == pytest.approx(1.0, rel=1e-4)
    assert rms_large / rms_small == pytest.approx(5.0 ** 4, rel=1e-3)  # four convolutions: σ⁴ (the lemma)
    assert torch.allclose(small(x), large(x), rtol=1e-3, atol=1e-5)


def test_smoke_experiments_train_cache_and_evaluate(monkeypatch):
    X = inversion.Experiments("smoke")
    inv = X.inversion("vgg16", "conv2", "random")
    assert len(inv.history["train"]) == X.S.iterations and inv.pixels == 3 * X.S.image_size ** 2
    assert X.inversion("vgg16", "conv2", "random") is inv
    gen = X.generalization(inv)
    assert set(gen) == {"train", "held_out"} and all(v > 0 for v in gen.values())
    # a fresh Experiments reads the finished DCN from the cache: no training step runs
    monkeypatch.setattr(inversion.training.torch.optim.Adam, "step",
                        lambda *a, **k: pytest.fail("retrained a cached DCN"))
    again = inversion.Experiments("smoke").inversion("vgg16", "conv2", "random")
    assert again.history == inv.history
    out = again.reconstruct(X.sets("vgg16", "domain")[1].first(2))
    assert out.shape == (2, 3, X.S.image_size, X.S.image_size)


def test_trained_and_photo_inversions_at_smoke_size():
    X = inversion.Experiments("smoke")
    trained = X.inversion("alexnet", "conv2", "trained")
    assert trained.pixels == 3 * X.S.alexnet_size ** 2
    photo = X.inversion("vgg16", "conv1", "random", domain="photos", distribution="laplace")
    raw = X.inversion("vgg16", "conv1", "random", domain="photos", raw=True, sigma=0.05)
    assert math.isnan(raw.feature_rms) and photo.feature_rms > 0


def test_bad_choices_are_errors_before_any_training():
    X = inversion.Experiments("smoke")
    with pytest.raises(ValueError, match="encoder kind must be one of"):
        X.inversion("vgg16", "conv2", "pretrained")
    with pytest.raises(ValueError, match="domain must be one of"):
        X.inversion("vgg16", "conv2", "random", domain="cifar")
    with pytest.raises(ValueError, match="layer must be one of"):
        X.inversion("vgg16", "conv9", "random")
    with pytest.raises(ValueError, match="random encoders only"):
        X.inversion("vgg16", "conv2", "trained", distribution="uniform")
    with pytest.raises(ValueError, match="unknown size"):
        inversion.Experiments("smoke", epochs=3)


def test_paper_profile_needs_a_data_dir_for_its_domain():
    X = inversion.Experiments("paper", **TINY)
    with pytest.raises(ValueError, match="data_dir"):
        X.sets("vgg16", "domain")


def _image_folder(root, n):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (root / split / "class_a").mkdir(parents=True)
        for i in range(n):
            image = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
            image.save(root / split / "class_a" / f"{i}.png")


def test_paper_configuration_builds_and_runs_a_step_at_tiny_size(tmp_path):
    """The paper profile (full-width VGG16, its schedule) with only the sizes shrunk: one DCN training step on a
    random encoder over images read from a DATA_DIR-style folder (ImageNet's weights are not needed)."""
    _image_folder(tmp_path / "imagenet", 4)
    X = inversion.Experiments("paper", data_dir=str(tmp_path / "imagenet"), image_size=32, **TINY)
    assert X.S.width == 1.0 and X.schedule.lr == 1e-4
    inv = X.inversion("vgg16", "conv2", "random")
    assert inv.decoder.steps["deconv1_1"].in_channels == 64 and len(inv.history["train"]) == 2
    assert np.isfinite(X.generalization(inv)["held_out"])


def test_smooth_and_loss_curves():
    assert inversion.smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]
    X = inversion.Experiments("smoke")
    fig = inversion.loss_curves({"a": X.inversion("vgg16", "conv1", "random")}, 2, title="t")
    assert len(fig.axes[0].lines) == 2


def test_replicates_redraw_the_random_encoder_and_the_dcn_but_not_the_classifier():
    X = inversion.Experiments("smoke")
    a, b = X.inversion("vgg16", "conv1", "random"), X.inversion("vgg16", "conv1", "random", replicate=1)
    assert not torch.equal(a.encoder[0].conv1_1.weight, b.encoder[0].conv1_1.weight)
    t0, t1 = X.inversion("vgg16", "conv1", "trained"), X.inversion("vgg16", "conv1", "trained", replicate=1)
    assert torch.equal(t0.encoder[0][1].conv1_1.weight, t1.encoder[0][1].conv1_1.weight)
    assert t0.history != t1.history
    with pytest.raises(ValueError, match="replicate"):
        X.inversion("vgg16", "conv1", "random", replicate=-1)


def test_overridden_sizes_reach_the_trained_encoder():
    X = inversion.Experiments("smoke", width=0.25)
    layers, encoder = X.encoder("vgg16", "conv1", "trained")
    assert layers[0].out_channels == 16 and encoder[1].conv1_1.out_channels == 16
