import numpy as np
import pytest
import torch
from skimage.color import rgb2gray
from skimage.metrics import structural_similarity

from rdcn.core import data, metrics


@pytest.fixture(scope="module")
def images():
    return data.photos(["chelsea", "coffee", "rocket"], 48)


def test_pearson_r_of_an_affine_copy_is_one(images):
    assert metrics.pearson_r(2 * images + 1, images) == pytest.approx([1.0, 1.0, 1.0])
    assert metrics.pearson_r(-images, images) == pytest.approx([-1.0, -1.0, -1.0])


def test_ssim_of_the_luminosity_inverted_image_is_one_after_the_inversion_rule(images):
    ssim, r, inverted = metrics.quality(1 - images, images)
    assert ssim == pytest.approx([1.0] * 3)
    assert r == pytest.approx([1.0] * 3)
    assert inverted.all()


def test_agrees_with_calling_scikit_image_directly(images):
    noisy = (images + 0.2 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    ssim, r, inverted = metrics.quality(noisy, images)
    for i in range(len(images)):
        y = rgb2gray(noisy[i].permute(1, 2, 0).double().numpy())
        x = rgb2gray(images[i].permute(1, 2, 0).double().numpy())
        y, x = (y - y.min()) / (y.max() - y.min()), (x - x.min()) / (x.max() - x.min())
        wang = structural_similarity(y, x, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)  # Wang et al. (2004), as scikit-image says
        assert ssim[i] == pytest.approx(wang, abs=1e-12)
        assert r[i] == pytest.approx(np.corrcoef(y.ravel(), x.ravel())[0, 1], abs=1e-12)
    assert not inverted.any()


def test_ssim_is_invariant_to_the_outputs_scale_and_offset(images):
    assert metrics.ssim(3 * images - 7, images) == pytest.approx([1.0] * 3)


def test_single_channel_outputs_are_accepted(images):
    gray = torch.from_numpy(metrics.grayscale(images))[:, None]
    assert metrics.ssim(gray, images) == pytest.approx([1.0] * 3)


def test_bad_shapes_are_clear_errors(images):
    with pytest.raises(ValueError, match=r"N×C×H×W with C = 1 or 3"):
        metrics.grayscale(images[0])
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.quality(images[:, :, :32, :32], images)
