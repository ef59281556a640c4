"""The classification-trained encoders (rdcn.he.trained_encoder) and torchvision's ImageNet weights
(rdcn.he.imagenet_weights): interface, caching, snapshots, the one input-size rule, and the weights' verification."""
import pickle
import warnings

import pytest
import torch

from rdcn.core import architectures, cache, jobs, profiles
from rdcn.he import imagenet_weights, trained_encoder

CHAPTER = "random_cnn_trained_dcn"


def _sizes(profile="smoke", **overrides):
    return profiles.sizes(CHAPTER, profile, **overrides)


def test_trained_encoder_interface_at_smoke_size():
    sizes = _sizes()
    layers, encoder, info = trained_encoder.trained_encoder("vgg16", sizes)
    assert layers == architectures.architecture("vgg16", width=sizes.width)
    assert [k for k in encoder._modules] == [k for k in architectures.build_encoder(layers)._modules]
    assert {"test_accuracy", "dataset", "image_size", "width", "normalize", "curve", "cache_key"} <= set(info)
    assert 0 <= info["test_accuracy"] <= 1 and info["normalize"] is None and info["image_size"] == sizes.image_size
    assert info["curve"]["iterations"][0] == 0 and info["curve"]["iterations"][-1] == sizes.classifier_iterations
    assert not any(p.requires_grad for p in encoder.parameters()) and not encoder.training
    x = torch.rand(2, 3, info["image_size"], info["image_size"])
    assert architectures.truncate(encoder, "pool2")(x).shape[1] == architectures.convs(
        architectures.cut(layers, "conv2"))[-1].out_channels


def test_second_call_reads_the_cache_and_gives_the_same_weights(monkeypatch):
    sizes = _sizes()
    _, first, info = trained_encoder.trained_encoder("alexnet", sizes)
    monkeypatch.setattr(trained_encoder.data, "fashion_mnist", lambda *a, **k: pytest.fail("retrained a cached model"))
    _, second, again = trained_encoder.trained_encoder("alexnet", sizes)
    assert again == info
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)


def test_snapshots_are_the_encoder_part_way_through_its_training():
    sizes = _sizes(classifier_iterations=6, classifier_snapshots=(2, 4))
    _, final, info = trained_encoder.trained_encoder("vgg16", sizes)
    start = trained_encoder.trained_encoder("vgg16", sizes, iteration=0)[1]
    middle = trained_encoder.trained_encoder("vgg16", sizes, iteration=2)[1]
    generator = torch.Generator().manual_seed(trained_encoder.classifier_config("vgg16", sizes)["seed"])
    fresh = trained_encoder.initialise_(trained_encoder.Classifier(architectures.architecture(
        "vgg16", width=sizes.width)), generator)
    assert torch.equal(start.conv1_1.weight, fresh.encoder.conv1_1.weight)  # 0: the initialisation itself
    assert not torch.equal(middle.conv1_1.weight, start.conv1_1.weight)
    assert not torch.equal(middle.conv1_1.weight, final.conv1_1.weight)
    with pytest.raises(ValueError, match="iteration must be one of the kept snapshots"):
        trained_encoder.trained_encoder("vgg16", sizes, iteration=3)
    with pytest.raises(ValueError, match="below classifier_iterations"):
        trained_encoder.classifier_config("vgg16", _sizes(classifier_snapshots=(9,)))


def test_a_killed_classifier_training_resumes_to_the_same_weights(monkeypatch):
    """A checkpoint half-way (snapshots included) resumes to the weights of an uninterrupted run."""
    sizes = _sizes(classifier_iterations=6, classifier_snapshots=(1, 4), checkpoint_every=2)
    job = trained_encoder.classifier_job("vgg16", sizes)
    jobs.execute(job)
    reference = cache.load(job.output)
    job.output.unlink()

    calls = {"n": 0}
    original = trained_encoder.training.fit

    def interrupted(*args, **kwargs):
        def stop(i):
            if i == 3:
                raise KeyboardInterrupt

        calls["n"] += 1
        return original(*args, **dict(kwargs, callback=stop if calls["n"] == 1 else None))

    monkeypatch.setattr(trained_encoder.training, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        jobs.execute(job)
    assert cache.path_for("checkpoint", job.key.removeprefix("classifier-")).is_file()
    jobs.execute(job)
    resumed = cache.load(job.output)
    for name, tensor in reference["state"].items():
        assert torch.equal(tensor, resumed["state"][name]), name
    for count, state in reference["snapshots"].items():
        for name, tensor in state.items():
            assert torch.equal(tensor, resumed["snapshots"][count][name]), (count, name)


def test_a_changed_size_is_a_new_model():
    _, a, info_a = trained_encoder.trained_encoder("vgg16", _sizes())
    _, b, info_b = trained_encoder.trained_encoder("vgg16", _sizes(classifier_iterations=5))
    assert info_a["cache_key"] != info_b["cache_key"]
    assert not torch.equal(a.conv1_1.weight, b.conv1_1.weight)


def test_training_learns_something():
    sizes = _sizes(classifier_iterations=60, classifier_batch=32, test_images=500, classifier_snapshots=())
    assert trained_encoder.trained_encoder("vgg16", sizes)[2]["test_accuracy"] > 0.3  # ten classes: chance is 0.1


def test_one_input_size_rule():
    sizes = _sizes(image_size=36, photo_size=40, alexnet_size=70)
    assert trained_encoder.image_size("vgg16", sizes) == 36
    assert trained_encoder.image_size("vgg16", sizes, "photos") == 40
    assert trained_encoder.image_size("alexnet", sizes, "photos") == trained_encoder.image_size("alexnet", sizes) == 70
    with pytest.raises(ValueError, match="domain must be one of"):
        trained_encoder.image_size("vgg16", sizes, "cifar")


def test_encoder_input_uses_scikit_images_gray_and_displayed_inverts_the_normalisation():
    from skimage.color import rgb2gray

    photos = torch.rand(2, 3, 8, 8)
    gray = trained_encoder.encoder_input(photos, dict(dataset="Fashion-MNIST", normalize=None))
    expected = torch.from_numpy(rgb2gray(photos.permute(0, 2, 3, 1).numpy())).float()
    assert gray.shape == photos.shape and torch.equal(gray[:, 0], gray[:, 2])
    torch.testing.assert_close(gray[:, 1], expected)
    imagenet = dict(dataset="ImageNet-1K", normalize=dict(mean=trained_encoder.IMAGENET_MEAN,
                                                          std=trained_encoder.IMAGENET_STD))
    normalized = trained_encoder.encoder_input(photos, imagenet)
    torch.testing.assert_close(normalized[:, 1], (photos[:, 1] - 0.456) / 0.224)
    torch.testing.assert_close(trained_encoder.displayed(normalized, imagenet), photos)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="architecture must be one of"):
        trained_encoder.trained_encoder("resnet", _sizes())
    with pytest.raises(ValueError, match="chapter 'random_cnn_trained_dcn'"):
        trained_encoder.trained_encoder("vgg16", profiles.sizes("theory", "smoke"))
    with pytest.raises(ValueError, match="classifier_iterations"):
        _sizes(classifier_iterations=-1)


# --- torchvision's ImageNet weights at the paper profile --------------------------------------------------------


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.delenv(imagenet_weights.UNVERIFIED_VARIABLE, raising=False)
    folder = tmp_path / "torch_home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def test_missing_weights_say_where_they_were_looked_for(torch_home):
    with pytest.raises(FileNotFoundError, match=r"ImageNet weights for vgg16 are not on this machine"):
        trained_encoder.trained_encoder("vgg16", _sizes("paper"))


class _Planted:
    """A pickle that would run code when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("unverified", [False, True])
def test_a_planted_pickle_is_refused_and_runs_no_code(torch_home, tmp_path, monkeypatch, unverified):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Planted(control)))
    assert control.exists()  # a plain unpickler runs the planted code
    marker = tmp_path / "code-ran"
    file = imagenet_weights.path("vgg16")
    with open(file, "wb") as handle:
        pickle.dump({"features.0.weight": _Planted(marker)}, handle)
    if unverified:
        monkeypatch.setenv(imagenet_weights.UNVERIFIED_VARIABLE, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imagenet_weights.UnverifiedWeightsWarning)
        with pytest.raises(ValueError, match=file.name):
            trained_encoder.trained_encoder("vgg16", _sizes("paper"))
    assert not marker.exists()


def _stand_in(torch_home):
    import torchvision

    reference = torchvision.models.alexnet()
    torch.save(reference.state_dict(), imagenet_weights.path("alexnet"))
    return reference


def test_a_hash_mismatch_is_refused_without_the_variable(torch_home):
    _stand_in(torch_home)
    with pytest.raises(ValueError, match="is not torchvision's alexnet ImageNet file"):
        trained_encoder.trained_encoder("alexnet", _sizes("paper"))


def test_with_the_variable_unverified_weights_load_and_say_so(torch_home, monkeypatch):
    reference = _stand_in(torch_home)
    monkeypatch.setenv(imagenet_weights.UNVERIFIED_VARIABLE, "1")
    with pytest.warns(imagenet_weights.UnverifiedWeightsWarning):
        layers, encoder, info = trained_encoder.trained_encoder("alexnet", _sizes("paper"))
    assert info["verified"] is False and info["normalize"]["mean"] == trained_encoder.IMAGENET_MEAN
    x = torch.rand(1, 3, 227, 227)
    assert torch.allclose(encoder(x), reference.features(x), atol=1e-5)


def test_the_published_prefix_is_read_from_the_name(torch_home):
    assert imagenet_weights.published_prefix(imagenet_weights.path("vgg16")) == "397923af"
    file = imagenet_weights.path("vgg16")
    file.write_bytes(b"")
    with pytest.raises(ValueError, match="refusing to load it"):
        imagenet_weights.verify("vgg16")
