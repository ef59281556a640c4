"""rdcn.core.metrics: He et al. §4's SSIM and Pearson r, the torch SSIM held to scikit-image's (Wang et al. 2004)."""
import numpy as np
import pytest
import torch
from skimage.color import rgb2gray
from skimage.metrics import structural_similarity

from rdcn.core import data, figures, metrics


@pytest.fixture(scope="module")
def images():
    return data.photos(["chelsea", "coffee", "rocket"], 48)


def reference_ssim(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """scikit-image's SSIM with Wang et al.'s window, one pair at a time: the reference."""
    return np.array([structural_similarity(a, b, **metrics.SSIM_OPTIONS) for a, b in zip(y, x)])


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
        assert ssim[i] == pytest.approx(wang, abs=1e-10)
        assert r[i] == pytest.approx(np.corrcoef(y.ravel(), x.ravel())[0, 1], abs=1e-12)
    assert not inverted.any()


@pytest.mark.parametrize("size", [(11, 11), (16, 23), (48, 48), (64, 64), (101, 77), (227, 227)])
def test_the_torch_ssim_matches_scikit_image_on_the_test_photographs(size):
    photos = data.photos(["chelsea", "coffee", "rocket", "astronaut"], max(size))[..., : size[0], : size[1]]
    x = metrics.minmax(metrics.grayscale(photos))
    generator = np.random.default_rng(0)
    pairs = {"noisy": np.clip(x + 0.2 * generator.standard_normal(x.shape), 0, 1), "inverted": 1 - x,
             "dim": 0.5 + 0.01 * x, "shifted": np.roll(x, 3, axis=-1), "constant": np.zeros_like(x)}
    for name, y in pairs.items():
        ours = metrics.structural_similarity(torch.from_numpy(y), torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(ours, reference_ssim(y, x), rtol=0, atol=1e-10, err_msg=name)


def test_the_inversion_rule_image_by_image_in_a_mixed_batch(images):
    noisy = (images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
    outputs = torch.stack([noisy[0], 1 - noisy[1], noisy[2]])  # the middle one is a negative
    ssim, r, inverted = metrics.quality(outputs, images)
    y, x = metrics.minmax(metrics.grayscale(outputs)), metrics.minmax(metrics.grayscale(images))
    plain = reference_ssim(y, x)
    assert inverted.tolist() == (plain < 0).tolist() == [False, True, False]
    y = np.where(inverted[:, None, None], 1 - y, y)
    np.testing.assert_allclose(ssim, reference_ssim(y, x), rtol=0, atol=1e-10)
    np.testing.assert_allclose(r, [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(y, x)], atol=1e-12)


def test_a_batch_scores_as_its_images_one_by_one(monkeypatch):
    x = torch.rand(7, 40, 33, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = (x + 0.3 * torch.rand(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))).clamp(0, 1)
    together = metrics.structural_similarity(y, x)
    monkeypatch.setitem(metrics.CHUNK_PIXELS, "cpu", 1)  # one image per chunk
    monkeypatch.setitem(metrics.BLOCK_ROWS, "cpu", 3)  # and many small blocks
    torch.testing.assert_close(metrics.structural_similarity(y, x), together, rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.cat([metrics.structural_similarity(y[i : i + 1], x[i : i + 1])
                                          for i in range(7)]), together, rtol=0, atol=1e-12)


def test_the_window_is_scipys_gaussian():
    from scipy import ndimage

    impulse = np.zeros(21)
    impulse[10] = 1
    expected = ndimage.gaussian_filter1d(impulse, 1.5, truncate=metrics.TRUNCATE)[5:16]
    np.testing.assert_allclose(metrics.gaussian_window().numpy(), expected, rtol=1e-14, atol=0)


def test_grayscale_is_scikit_images_rgb2gray(images):
    expected = rgb2gray(images.permute(0, 2, 3, 1).double().numpy())
    np.testing.assert_allclose(metrics.grayscale(images), expected, rtol=0, atol=1e-15)


def test_one_minmax_for_the_comparison_and_the_display():
    batch = torch.tensor([[[1.0, 3.0], [5.0, 2.0]], [[4.0, 4.0], [4.0, 4.0]]], dtype=torch.float64)
    out = metrics.minmax(batch)
    assert isinstance(out, torch.Tensor)
    assert out.tolist() == [[[0.0, 0.5], [1.0, 0.25]], [[0.0, 0.0], [0.0, 0.0]]]  # a constant image becomes 0
    assert isinstance(metrics.minmax(batch.numpy()), np.ndarray)
    colour = torch.rand(3, 5, 4) * 7 - 2
    np.testing.assert_array_equal(figures.stretch(colour), metrics.minmax(colour[None].double())[0].numpy())


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
    with pytest.raises(ValueError, match=r"at least 11×11 pixels"):
        metrics.structural_similarity(torch.zeros(1, 10, 30), torch.zeros(1, 10, 30))
    with pytest.raises(ValueError, match="N×H×W of one shape"):
        metrics.structural_similarity(torch.zeros(2, 12, 12), torch.zeros(1, 12, 12))


def test_every_tensor_follows_the_images_to_their_device():
    """On the meta device (shapes only), a tensor the code made on the CPU would refuse to mix with the images'."""
    images = torch.zeros(3, 40, 33, dtype=torch.float64, device="meta")
    assert metrics.structural_similarity(images, images).shape == (3,)
    assert metrics.minmax(metrics.luminance(torch.zeros(2, 3, 20, 20, device="meta"))).device.type == "meta"
