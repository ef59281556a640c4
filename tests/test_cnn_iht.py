"""rdcn.gilbert.cnn_iht: the linear decoder of a VGG cut at poolK and IHT reconstruction."""
import math

import pytest
import torch
from torch import nn

from rdcn.core import architectures as A
from rdcn.core import random_weights as rw
from rdcn.core.architectures import Conv, Pool
from rdcn.gilbert import cnn_iht
from rdcn.he import trained_encoder


def _vgg(width=1 / 16):
    return rw.randomize_(A.build_encoder(A.architecture("vgg16", width=width)), "gaussian", 0)


def _images(n=2, size=18, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _inner(a, b):
    return float((a.double() * b.double()).sum())


@pytest.mark.parametrize("support", ["known", "fixed"])
@pytest.mark.parametrize("layer", ["pool1", "pool3"])
def test_analysis_is_the_adjoint_of_synthesis(support, layer):
    x = _images()
    model = cnn_iht.LinearCNN(_vgg(), layer, x, support)
    b = model.analysis(x)
    z = torch.randn(b.shape, generator=torch.Generator().manual_seed(1))
    y = model.synthesis(z)
    assert y.shape == x.shape
    assert math.isclose(_inner(y, x), _inner(z, b), rel_tol=1e-4)


def test_one_step_code_is_the_cnn_layer_itself():
    """For one conv and one pooling, no bias: ReLU of 𝕄_known(Φᵀx), pooled, is exactly the CNN's pool1 output."""
    layers = (Conv("conv1_1", 3, 6, 3), Pool("pool1", 2, 2, ceil_mode=True))
    encoder = rw.randomize_(A.build_encoder(layers), "gaussian", 3)
    x = _images(size=9)
    model = cnn_iht.LinearCNN(encoder, "pool1", x, "known")
    code = model.project(model.analysis(x)).clamp_min(0)
    pooled = nn.functional.max_pool2d(code, 2, 2, ceil_mode=True)
    torch.testing.assert_close(pooled, encoder(x))


def test_known_positions_are_the_encoders_switches():
    encoder, x = _vgg(), _images()
    model = cnn_iht.LinearCNN(encoder, "pool2", x, "known")
    before_pool2 = A.truncate(encoder, "conv2")(x)
    switches = nn.functional.max_pool2d(before_pool2, 2, 2, ceil_mode=True, return_indices=True)[1]
    assert torch.equal(model.steps[-1][2]["positions"], switches)


def test_reconstruction_error_starts_at_one_and_never_grows():
    x = _images()
    images, errors = cnn_iht.reconstruct(_vgg(1 / 8), "pool1", x, iterations=8)
    assert images.shape == x.shape and errors.shape == (9, 2)
    assert torch.equal(errors[0], torch.ones(2))
    assert bool((errors[1:] <= errors[:-1] + 1e-6).all())
    assert float(errors[-1].max()) < 0.9
    again = cnn_iht.reconstruct(_vgg(1 / 8), "pool1", x, iterations=8)[1]
    torch.testing.assert_close(errors, again)


def test_linear_cnn_rejects_what_it_cannot_model():
    x = _images()
    with pytest.raises(ValueError, match="support must be one of"):
        cnn_iht.LinearCNN(_vgg(), "pool1", x, "oracle")
    with pytest.raises(ValueError, match="poolK"):
        cnn_iht.LinearCNN(_vgg(), "conv2", x)
    alexnet = A.build_encoder(A.architecture("alexnet", width=0.1))
    with pytest.raises(ValueError, match="stride-1"):
        cnn_iht.LinearCNN(alexnet, "pool1", _images(size=67))
    overlapping = A.build_encoder((Conv("conv1", 3, 4, 3), Pool("pool1", 3, 2, ceil_mode=False)))
    with pytest.raises(ValueError, match="non-overlapping"):
        cnn_iht.LinearCNN(overlapping, "pool1", x)


def test_encoder_input_and_displayed():
    """The chapter's inputs to the learned encoder (from rdcn.he, wired in by the notebook)."""
    from skimage.color import rgb2gray

    photos = _images(size=8)
    gray = trained_encoder.encoder_input(photos, dict(dataset="Fashion-MNIST", normalize=None))
    assert torch.equal(gray[:, 0], gray[:, 1]) and torch.equal(gray[:, 1], gray[:, 2])
    luminance = torch.tensor(rgb2gray(photos.permute(0, 2, 3, 1).numpy(), channel_axis=-1))
    torch.testing.assert_close(gray[:, 0], luminance.float())
    imagenet = dict(dataset="ImageNet-1K", normalize=dict(mean=(0.5, 0.4, 0.3), std=(0.2, 0.3, 0.4)))
    normalized = trained_encoder.encoder_input(photos, imagenet)
    torch.testing.assert_close(normalized[:, 2], (photos[:, 2] - 0.3) / 0.4)
    torch.testing.assert_close(trained_encoder.displayed(normalized, imagenet), photos)
