"""The classification-trained encoders (rdcn.classifier): interface, caching, training, errors."""
import pytest
import torch

from rdcn.core import architectures, cache
from rdcn.he import trained_encoder as classifier


def test_trained_encoder_interface_at_smoke_size():
    layers, encoder, info = classifier.trained_encoder("vgg16", "smoke")
    assert layers == architectures.architecture("vgg16", width=info["width"])
    assert [k for k in encoder._modules] == [k for k in architectures.build_encoder(layers)._modules]
    assert {"test_accuracy", "dataset", "image_size", "width", "normalize"} <= set(info)
    assert 0 <= info["test_accuracy"] <= 1 and info["normalize"] is None
    assert not any(p.requires_grad for p in encoder.parameters()) and not encoder.training
    pool2 = architectures.truncate(encoder, "pool2")
    x = torch.rand(2, 3, info["image_size"], info["image_size"])
    assert pool2(x).shape[1] == architectures.convs(architectures.cut(layers, "conv2"))[-1].out_channels


def test_second_call_reads_the_cache_and_gives_the_same_weights(monkeypatch):
    _, first, info = classifier.trained_encoder("alexnet", "smoke")
    monkeypatch.setattr(classifier.data, "fashion_mnist", lambda *a, **k: pytest.fail("retrained a cached model"))
    _, second, again = classifier.trained_encoder("alexnet", "smoke")
    assert again == info
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)


def test_a_changed_size_is_a_new_model():
    _, a, info_a = classifier.trained_encoder("vgg16", "smoke")
    _, b, info_b = classifier.trained_encoder("vgg16", "smoke", classifier_iterations=5)
    assert info_a["cache_key"] != info_b["cache_key"]
    assert not torch.equal(a.conv1_1.weight, b.conv1_1.weight)


def test_a_corrupt_cache_file_is_reported_and_rebuilt():
    _, first, info = classifier.trained_encoder("vgg16", "smoke")
    path = cache.path_for("classifier", info["cache_key"])
    path.write_bytes(b"not a checkpoint")
    with pytest.warns(cache.CorruptCacheWarning, match=str(path.name)):
        _, rebuilt, _ = classifier.trained_encoder("vgg16", "smoke")
    assert torch.equal(first.conv1_1.weight, rebuilt.conv1_1.weight)  # seeded: the rebuild is the same model


def test_training_learns_something():
    _, _, info = classifier.trained_encoder("vgg16", "smoke", classifier_iterations=60, classifier_batch=32,
                                            test_images=500)
    assert info["test_accuracy"] > 0.3  # ten classes: chance is 0.1


def test_fashion_images_are_three_channel_gray_in_unit_range():
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    x = classifier.fashion_images(images, 32)
    assert x.shape == (3, 3, 32, 32) and x.min() >= 0 and x.max() <= 1
    assert torch.equal(x[:, 0], x[:, 2])


def test_normalize_applies_the_imagenet_statistics_and_none_is_identity():
    x = torch.rand(2, 3, 4, 4)
    assert torch.equal(classifier.normalize(x, {"normalize": None}), x)
    info = {"normalize": dict(mean=classifier.IMAGENET_MEAN, std=classifier.IMAGENET_STD)}
    y = classifier.normalize(x, info)
    assert torch.allclose(y[:, 1], (x[:, 1] - 0.456) / 0.224)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="arch must be one of"):
        classifier.trained_encoder("resnet", "smoke")
    with pytest.raises(ValueError, match="profile must be one of"):
        classifier.trained_encoder("vgg16", "huge")
    with pytest.raises(ValueError, match="classifier_iterations"):
        classifier.trained_encoder("vgg16", "smoke", classifier_iterations=-1)


def test_paper_profile_needs_the_imagenet_weights(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(FileNotFoundError, match="ImageNet weights"):
        classifier.trained_encoder("vgg16", "paper")
