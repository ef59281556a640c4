"""Chapter 2's DCNs (rdcn.he.inversion): random encoders, feature scale, DCN descriptions and keys, one DCN's
training job and its reading back, and the paper profile's images (decoded before any training)."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

from rdcn.core import architectures, jobs, profiles, training
from rdcn.he import inversion, trained_encoder
from rdcn.he.inversion import DCN

CHAPTER = "random_cnn_trained_dcn"
TINY = dict(iterations=2, batch=2, train_images=4, eval_images=3, curve_images=2, eval_every=1, checkpoint_every=1)


def _sizes(profile="smoke", **overrides):
    return profiles.sizes(CHAPTER, profile, **overrides)


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


def test_a_replicates_encoder_is_shared_by_its_layers_and_sigmas_and_differs_between_replicates():
    sizes = _sizes()
    conv1, conv2 = (inversion.encoder(DCN("vgg16", layer), sizes) for layer in ("conv1", "conv2"))
    assert torch.equal(conv1.conv1_1.weight, conv2.conv1_1.weight)
    scaled = inversion.encoder(DCN("vgg16", "conv2", sigma=0.03), sizes)
    torch.testing.assert_close(scaled.conv1_1.weight, 2 * conv2.conv1_1.weight)
    other = inversion.encoder(DCN("vgg16", "conv2", replicate=1), sizes)
    assert not torch.equal(other.conv1_1.weight, conv2.conv1_1.weight)


def test_bad_descriptions_are_errors_before_any_training():
    for kwargs, match in ((dict(encoder="pretrained"), "encoder kind must be one of"),
                          (dict(domain="cifar"), "domain must be one of"),
                          (dict(encoder="trained", distribution="uniform"), "random encoders only"),
                          (dict(classifier_iterations=3), "trained encoders only"),
                          (dict(distribution="laplace", sigma=0.1), "Gaussian distribution only"),
                          (dict(replicate=-1), "replicate"), (dict(width=0), "width")):
        with pytest.raises(ValueError, match=match):
            DCN("vgg16", "conv2", **kwargs)
    with pytest.raises(ValueError, match="layer must be one of"):
        DCN("vgg16", "conv9")


def test_the_key_of_a_trained_encoders_dcn_is_known_before_its_classifier_is_trained():
    sizes = _sizes()
    classifier = trained_encoder.classifier_job("vgg16", sizes)
    job = inversion.job(DCN("vgg16", "conv2", "trained"), sizes)
    assert not classifier.done() and job.needs == (classifier.key,)
    with pytest.raises(FileNotFoundError, match="needs is not in the cache"):
        jobs.execute(job)  # a DCN's job reads its classifier, it never trains one
    jobs.run_local([classifier, job], progress=False)
    assert job.key == inversion.key(DCN("vgg16", "conv2", "trained"), sizes)  # unchanged once it is trained
    assert job.flops_per_step > 0 and job.steps == sizes.iterations


def test_a_dcn_trains_once_and_reads_back_with_its_measured_losses(monkeypatch):
    sizes = _sizes()
    dcn = DCN("vgg16", "conv2")
    job = inversion.job(dcn, sizes)
    jobs.execute(job)
    model = inversion.load(dcn, sizes)
    assert len(model.history["train"]) == sizes.iterations and model.pixels == 3 * sizes.image_size ** 2
    assert set(model.evaluations) == {"train", "held_out"} and all(v > 0 for v in model.evaluations.values())
    monkeypatch.setattr(inversion.training.torch.optim.Adam, "step", lambda *a, **k: pytest.fail("retrained"))
    assert jobs.execute(job)["status"] == "cached"
    images = inversion.image_sets(sizes, "vgg16", "domain")[1].first(2)
    held_out_set = inversion.image_sets(sizes, "vgg16", "domain")[1]
    held_out = training.mean_sse(model.decoder, training.EncodedImages(model.encoder, held_out_set.images, "cpu", 0),
                                 sizes.eval_images)
    assert held_out == pytest.approx(model.evaluations["held_out"], rel=1e-5)  # the loaded model is the trained one
    assert model.reconstruct(images).shape == (2, 3, sizes.image_size, sizes.image_size)
    with pytest.raises(FileNotFoundError, match="not in the cache"):
        inversion.load(DCN("vgg16", "conv3"), sizes)


def test_raw_and_photo_dcns():
    sizes = _sizes()
    raw = DCN("vgg16", "conv1", sigma=0.05, raw=True, iterations=3)
    photos = DCN("alexnet", "conv1", domain="photos", distribution="laplace")
    jobs.run_local([inversion.job(raw, sizes), inversion.job(photos, sizes)], progress=False)
    assert math.isnan(inversion.load(raw, sizes).feature_rms) and len(inversion.load(raw, sizes).history["train"]) == 3
    assert inversion.load(photos, sizes).pixels == 3 * sizes.alexnet_size ** 2


def _image_folder(root, n, corrupt=None):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (root / split / "class_a").mkdir(parents=True)
        for i in range(n):
            image = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
            image.save(root / split / "class_a" / f"{i}.png")
    if corrupt is not None:
        (root / "train" / "class_a" / corrupt).write_bytes(b"\xff\xd8\xff\xe0 not a JPEG after all")


def test_paper_profile_needs_a_data_dir_for_its_images():
    with pytest.raises(ValueError, match="data_dir"):
        inversion.image_sets(_sizes("paper", **TINY), "vgg16", "domain")


def test_a_corrupt_file_is_an_error_naming_it_before_any_training(tmp_path, monkeypatch):
    _image_folder(tmp_path / "imagenet", 4, corrupt="broken.JPEG")
    sizes = _sizes("paper", image_size=32, **dict(TINY, train_images=5))
    monkeypatch.setattr(inversion.training, "train_dcn", lambda *a, **k: pytest.fail("training started"))
    job = inversion.job(DCN("vgg16", "conv1"), sizes, data_dir=str(tmp_path / "imagenet"))
    with pytest.raises(jobs.JobFailed, match="broken.JPEG"):
        jobs.run_local([job], progress=False)


def test_paper_configuration_trains_a_step_at_tiny_size(tmp_path):
    """The paper profile (full-width VGG16, its schedule, ImageNet-layout folders) with only the sizes shrunk:
    one random-encoder DCN (ImageNet's weights are not needed for it)."""
    _image_folder(tmp_path / "imagenet", 4)
    sizes = _sizes("paper", image_size=32, **TINY)
    dcn, data_dir = DCN("vgg16", "conv2"), str(tmp_path / "imagenet")
    jobs.run_local([inversion.job(dcn, sizes, data_dir=data_dir)], progress=False)
    model = inversion.load(dcn, sizes, data_dir=data_dir)
    assert model.decoder.steps["deconv1_1"].in_channels == 64 and len(model.history["train"]) == 2
    assert np.isfinite(model.evaluations["held_out"])
    assert inversion.natural_domain(sizes) == "domain" and inversion.natural_domain(_sizes()) == "photos"


def test_smooth():
    assert inversion.smooth([1.0, 3.0, 5.0, 7.0], 2) == [1.0, 2.0, 4.0, 6.0]


def test_a_steps_flops_share_out_the_feature_pass_where_training_holds_the_features():
    layers = architectures.cut(architectures.architecture("vgg16", width=1 / 8), "conv2")
    per_image = jobs.step_flops(lambda device: architectures.build_encoder(layers).to(device)(
        torch.zeros(1, 3, 32, 32, device=device)))
    per_batch = inversion.step_flops(layers, 32, 4, images=10**6, iterations=1000)  # reads fewer images than held
    held = inversion.step_flops(layers, 32, 4, images=400, iterations=1000)  # each image's features once
    assert per_image > 0 and per_batch - held == pytest.approx(per_image * (4 - 400 / 1000))
