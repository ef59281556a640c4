"""rdcn.random_reconstruction: the §4 networks, seeds, sweeps and their statistics."""
import numpy as np
import pytest
import torch

from rdcn.core import architectures as arch
from rdcn.core import metrics
from rdcn.he import random_reconstruction as rr


def images(n=3, size=24, seed=0):
    """Smooth random images (blurred noise), so that a random CNN-DCN keeps some of their geometry."""
    noise = torch.rand(n, 3, size // 4, size // 4, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)


def test_network_seeds_are_reproducible_and_independent_per_setting():
    a = rr.network_seeds(0, 5, "width", "variant", 64)
    assert a == rr.network_seeds(0, 5, "width", "variant", 64)
    assert len(set(a)) == 5 and all(isinstance(s, int) for s in a)
    assert not set(a) & set(rr.network_seeds(0, 5, "width", "variant", 128))
    assert not set(a) & set(rr.network_seeds(1, 5, "width", "variant", 64))
    assert rr.network_seeds(0, 8, "k")[:5] == rr.network_seeds(0, 5, "k")
    with pytest.raises(ValueError, match="count"):
        rr.network_seeds(0, 0, "k")


def test_the_section_4_networks():
    widths = rr.width_nets((4, 32))
    assert [c.out_channels for c in arch.convs(widths[32])] == [32, 32]
    assert [type(layer).__name__ for layer in widths[4]] == ["Conv", "Conv", "Pool"]
    kernels = rr.kernel_nets((1, 7))
    assert [(c.kernel, c.out_channels) for c in arch.convs(kernels[7])] == [(7, 64)]
    depth = rr.depth_nets(width=0.5, blocks=(1, 3))
    assert arch.shape_chain(depth["full"][3], (227, 227))[-1] == (57, 57)
    assert arch.shape_chain(depth["simplified"][3], (227, 227))[-1] == (57, 57)
    assert depth["simplified"][3][0].out_channels == depth["full"][3][-1].out_channels == 128
    assert rr.variant_config("variant")["last"] == "mean"
    with pytest.raises(ValueError, match="variant"):
        rr.variant_config("rrvgg")


@pytest.fixture(scope="module")
def width_sweep():
    nets = rr.width_nets((4, 16))
    seeds = {n: rr.network_seeds(0, 4, "test", n) for n in nets}
    return rr.sweep(nets, images(), seeds, progress=False, **rr.variant_config("variant")), nets, seeds


def test_sweep_scores_every_network_on_every_image(width_sweep):
    result, nets, seeds = width_sweep
    assert result.settings == [4, 16] and result.ssim.shape == result.r.shape == (2, 4, 3)
    x = images()
    out = rr.reconstruct(nets[16], seeds[16][2], x, **rr.variant_config("variant"))
    ssim, r, inverted = metrics.quality(out, x)
    np.testing.assert_allclose(result.ssim[1, 2], ssim)
    np.testing.assert_allclose(result.r[1, 2], r)
    np.testing.assert_array_equal(result.inverted[1, 2], inverted)
    assert (result.ssim >= 0).all() and (result.ssim <= 1).all()


def test_summary_and_closest_to_mean(width_sweep):
    result = width_sweep[0]
    mean, std = result.summary("r")
    per_network = result.r.mean(axis=2)
    np.testing.assert_allclose(mean, per_network.mean(axis=1))
    np.testing.assert_allclose(std, per_network.std(axis=1, ddof=1))
    picks = result.closest_to_mean(1)
    for setting, pick in enumerate(picks):
        values = result.ssim[setting, :, 1]
        assert abs(values[pick] - values.mean()) == pytest.approx(np.abs(values - values.mean()).min())
    with pytest.raises(ValueError, match="metric"):
        result.summary("psnr")


def test_measured_view_is_the_image_ssim_was_computed_on(width_sweep):
    result, nets, seeds = width_sweep
    x = images()
    out = rr.reconstruct(nets[4], seeds[4][0], x, **rr.variant_config("variant"))
    view = torch.from_numpy(rr.measured_view(out, x))[:, None]
    ssim, _, inverted = metrics.quality(view, x)
    assert not inverted.any()
    np.testing.assert_allclose(ssim, result.ssim[0, 0], atol=1e-12)
    assert view.min() >= 0 and view.max() <= 1


def test_quality_does_not_depend_on_the_gaussian_scale():
    """A bias-free ReLU CNN-DCN is positively homogeneous: σ scales the output, min-max SSIM and r ignore it."""
    nets = rr.width_nets((8,))
    seeds = {8: [3, 4]}
    small, large = (rr.sweep(nets, images(), seeds, progress=False, params={"sigma": sigma},
                             **rr.variant_config("original")) for sigma in (0.005, 0.05))
    np.testing.assert_allclose(small.ssim, large.ssim, atol=1e-5)
    np.testing.assert_allclose(small.r, large.r, atol=1e-5)


def test_sweep_refuses_mismatched_settings():
    nets = rr.width_nets((4, 8))
    with pytest.raises(ValueError, match="same settings"):
        rr.sweep(nets, images(), {4: [0]}, progress=False)
    with pytest.raises(ValueError, match="same number"):
        rr.sweep(nets, images(), {4: [0], 8: [0, 1]}, progress=False)


def test_spearman():
    assert rr.spearman([1, 2, 3, 4], [0.1, 0.2, 0.25, 0.3]) == pytest.approx(1.0)
    assert rr.spearman([1, 2, 3, 4], [0.3, 0.1, 0.2, 0.0]) == pytest.approx(-0.8)


def test_closest_views_show_the_output_closest_to_the_mean(width_sweep):
    result, nets, _ = width_sweep
    x = images()
    views, values = rr.closest_views(result, nets, x, [2], **rr.variant_config("variant"))
    assert len(views) == len(values) == 1 and len(views[0]) == len(result.settings)
    for i, (view, value) in enumerate(zip(views[0], values[0])):
        pick = result.closest_to_mean(2)[i]
        assert value == result.ssim[i, pick, 2]
        ssim = metrics.quality(torch.from_numpy(view)[None, None], x[2:3])[0]
        # the view is recomputed by one network alone, the sweep ran it batched: float32 paths, float32 tolerance
        assert ssim[0] == pytest.approx(value, rel=1e-5, abs=1e-6)
