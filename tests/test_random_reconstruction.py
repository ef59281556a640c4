"""rdcn.he.random_reconstruction: the §4 networks, seeds, sweeps and their statistics."""
import numpy as np
import pytest
import torch

from rdcn.core import architectures as arch
from rdcn.core import metrics, seeds
from rdcn.he import random_reconstruction as rr
from rdcn.he import theory


def images(n=3, size=24, seed=0):
    """Smooth random images (blurred noise), so that a random CNN-DCN keeps some of their geometry."""
    noise = torch.rand(n, 3, size // 4, size // 4, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)


def test_setting_seeds_are_the_seeding_scheme_s_own_per_setting():
    by_setting = rr.setting_seeds(0, 5, (64, 128), "width", "variant")
    assert by_setting[64] == seeds.derive_many(0, 5, "width", "variant", 64)
    assert not set(by_setting[64]) & set(by_setting[128])
    assert rr.setting_seeds(0, 8, (64,), "width", "variant")[64][:5] == by_setting[64]
    with pytest.raises(ValueError, match="count"):
        rr.setting_seeds(0, 0, (64,), "k")


def test_the_section_4_networks():
    widths = rr.width_nets((4, 32))
    assert [c.out_channels for c in arch.convs(widths[32])] == [32, 32]
    assert [type(layer).__name__ for layer in widths[4]] == ["Conv", "Conv", "Pool"]
    kernels = rr.kernel_nets((1, 7))
    assert [(c.kernel, c.out_channels) for c in arch.convs(kernels[7])] == [(7, 64)]
    depth = rr.depth_nets(width=0.5, blocks=(1, 3))
    for kind in ("full", "simplified", "strided"):
        assert arch.shape_chain(depth[kind][3], (227, 227))[-1] == (57, 57), kind
        assert arch.convs(depth[kind][3])[-1].out_channels == 128
    assert rr.variant_config("variant")["last"] == "mean"
    assert rr.variant_config("variant", pooling="l2", upsample="nearest")["pooling"] == "l2"
    with pytest.raises(ValueError, match="variant"):
        rr.variant_config("rrvgg")
    with pytest.raises(ValueError, match="pooling"):
        rr.variant_config("variant", pooling="median")
    with pytest.raises(ValueError, match="widths"):
        rr.width_nets((4, 0))


@pytest.fixture(scope="module")
def width_sweep():
    nets = rr.width_nets((4, 16))
    by_setting = rr.setting_seeds(0, 4, nets, "test")
    return rr.sweep(nets, images(), by_setting, progress=False, **rr.variant_config("original")), nets, by_setting


def test_sweep_scores_every_network_on_every_image(width_sweep):
    result, nets, by_setting = width_sweep
    assert result.settings == [4, 16] and result.ssim.shape == result.r.shape == result.colour_r.shape == (2, 4, 3)
    assert result.cosine is None
    x = images()
    out = rr.reconstruct(nets[16], by_setting[16][2], x, **rr.variant_config("original"))
    ssim, r, inverted = metrics.quality(out, x)
    # the sweep ran the network batched, reconstruct alone: float32 paths, float32 tolerance
    np.testing.assert_allclose(result.ssim[1, 2], ssim, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(result.r[1, 2], r, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.inverted[1, 2], inverted)
    assert (result.ssim >= 0).all() and (result.ssim <= 1).all()
    assert np.isfinite(result.colour_r).all() and (np.abs(result.colour_r) <= 1).all()


def test_summary_deviations_subset_and_closest_to_mean(width_sweep):
    result = width_sweep[0]
    mean, std = result.summary("r")
    per_network = result.r.mean(axis=2)
    np.testing.assert_allclose(mean, per_network.mean(axis=1))
    np.testing.assert_allclose(std, per_network.std(axis=1, ddof=1))
    ssim = result.per_network()
    np.testing.assert_allclose(result.deviations(), np.abs(ssim - np.median(ssim, axis=1, keepdims=True)))
    assert result.half_width().shape == (2,) and (result.half_width() > 0).all()
    part = result.subset(2)
    assert part.ssim.shape == (2, 2, 3) and part.seeds == [s[:2] for s in result.seeds]
    np.testing.assert_array_equal(part.ssim, result.ssim[:, :2])
    picks = result.closest_to_mean(1)
    for setting, pick in enumerate(picks):
        values = result.ssim[setting, :, 1]
        assert abs(values[pick] - values.mean()) == pytest.approx(np.abs(values - values.mean()).min())
    with pytest.raises(ValueError, match="metric"):
        result.summary("psnr")
    with pytest.raises(ValueError, match="reference"):
        result.per_network("cosine")


def test_t_half_width():
    values = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    from scipy import stats

    expected = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    np.testing.assert_allclose(rr.t_half_width(values), [expected, 0.0])
    assert rr.t_half_width(np.ones((2, 1))).tolist() == [0.0, 0.0]


def test_a_reference_gives_each_output_s_cosine_to_it():
    nets = rr.width_nets((8,))
    x = images()
    config = rr.variant_config("variant", pooling="l2")
    ybar = theory.limit(theory.variant(nets[8], 1), x).float()
    result = rr.sweep(nets, x, {8: [5, 6]}, progress=False, reference=ybar, **config)
    out = rr.reconstruct(nets[8], 6, x, **config)
    np.testing.assert_allclose(result.cosine[0, 1], theory.cosine(out, ybar).numpy(), rtol=1e-5)
    assert np.isnan(result.colour_r).all()  # the variant's output is gray: no colour to compare
    with pytest.raises(ValueError, match="reference"):
        rr.sweep(nets, x, {8: [5]}, progress=False, reference=ybar[:1], **config)


def test_measured_view_is_the_image_ssim_was_computed_on(width_sweep):
    result, nets, by_setting = width_sweep
    x = images()
    out = rr.reconstruct(nets[4], by_setting[4][0], x, **rr.variant_config("original"))
    view = torch.from_numpy(rr.measured_view(out, x))[:, None]
    ssim, _, inverted = metrics.quality(view, x)
    assert not inverted.any()
    np.testing.assert_allclose(ssim, result.ssim[0, 0], rtol=1e-5, atol=1e-6)
    assert view.min() >= 0 and view.max() <= 1


def test_quality_does_not_depend_on_the_gaussian_scale():
    """A bias-free ReLU CNN-DCN is positively homogeneous: σ scales the output, min-max SSIM and r ignore it."""
    nets = rr.width_nets((8,))
    by_setting = {8: [3, 4]}
    small, large = (rr.sweep(nets, images(), by_setting, progress=False, params={"sigma": sigma},
                             **rr.variant_config("original")) for sigma in (0.005, 0.05))
    np.testing.assert_allclose(small.ssim, large.ssim, atol=1e-5)
    np.testing.assert_allclose(small.r, large.r, atol=1e-5)
    np.testing.assert_allclose(small.colour_r, large.colour_r, atol=1e-5)


def test_sweep_refuses_mismatched_settings():
    nets = rr.width_nets((4, 8))
    with pytest.raises(ValueError, match="same settings"):
        rr.sweep(nets, images(), {4: [0]}, progress=False)
    with pytest.raises(ValueError, match="same number"):
        rr.sweep(nets, images(), {4: [0], 8: [0, 1]}, progress=False)


def test_closest_views_show_the_output_closest_to_the_mean(width_sweep):
    result, nets, _ = width_sweep
    x = images()
    views, values = rr.closest_views(result, nets, x, [2], **rr.variant_config("original"))
    assert len(views) == len(values) == 1 and len(views[0]) == len(result.settings)
    for i, (view, value) in enumerate(zip(views[0], values[0])):
        pick = result.closest_to_mean(2)[i]
        assert value == result.ssim[i, pick, 2]
        ssim = metrics.quality(torch.from_numpy(view)[None, None], x[2:3])[0]
        # the view is recomputed by one network alone, the sweep ran it batched: float32 paths, float32 tolerance
        assert ssim[0] == pytest.approx(value, rel=1e-5, abs=1e-6)
