"""Chapter 3's pieces beyond the sweep: the simplified nets of §4.1, Shu et al.'s colour measure, and the studies
(depth, width, kernel, colour) at a tiny scale, feeding the registry's rules."""
import matplotlib
import numpy as np
import pytest
import torch

from rdcn import claims
from rdcn.claims.rules import STATES
from rdcn.core import architectures as arch
from rdcn.he import colour_geometry as cg
from rdcn.he import rrvgg_colour, rrvgg_depth, rrvgg_kernel, rrvgg_width
from rdcn.notebook import open_chapter

VGG = arch.architecture("vgg16")


@pytest.mark.parametrize("kind", ["pooled", "strided"])
def test_simplified_nets_have_conv_k_width_and_shape(kind):
    for k in range(1, 6):
        simple = arch.simplified(VGG, f"conv{k}", kind)
        full = arch.cut(VGG, f"conv{k}")
        assert arch.shape_chain(simple, (227, 227))[-1] == arch.shape_chain(full, (227, 227))[-1]
        assert arch.convs(simple)[-1].out_channels == arch.convs(full)[-1].out_channels
    (conv,) = arch.simplified(VGG, "conv1", kind)  # stride 1: one conv, no pooling
    assert (conv.stride, conv.kernel, conv.out_channels) == (1, 3, 64)


def test_the_pooled_simplified_net_is_a_stride_1_conv_then_one_pooling():
    conv, pool = arch.simplified(VGG, "conv4")
    assert (conv.stride, conv.kernel, conv.out_channels, pool.kernel, pool.stride) == (1, 3, 512, 8, 8)
    (strided,) = arch.simplified(VGG, "conv4", "strided")
    assert (strided.stride, strided.kernel) == (8, 3)
    assert arch.simplified(VGG, "conv4") == arch.simplified(VGG, "conv4", kind="pooled")
    with pytest.raises(ValueError, match="kind"):
        arch.simplified(VGG, "conv4", "dilated")


def _seen(layers, size=32) -> torch.Tensor:
    """Which input pixels the output depends on (leaky ReLU, average pooling: no zero gradient by accident)."""
    torch.manual_seed(0)
    net = arch.cnn_dcn(layers, "leaky", "leaky", "avg")
    x = torch.rand(1, 3, size, size, requires_grad=True)
    net(x).square().sum().backward()
    return x.grad.abs().sum(1)[0] > 0


def test_the_pooled_net_sees_every_pixel_and_the_strided_one_does_not():
    small = arch.architecture("vgg16", width=1 / 16)
    assert _seen(arch.simplified(small, "conv4")).all()
    seen = _seen(arch.simplified(small, "conv4", "strided"))
    assert seen.float().mean() == pytest.approx((11 / 32) ** 2)  # rows and columns −1…1, 7…9, 15…17, 23…25


def _photo(seed=0, size=24) -> torch.Tensor:
    noise = torch.rand(2, 3, size // 4, size // 4, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)


def test_colour_r_of_an_image_with_itself_is_one_and_inverted_minus_one():
    x = _photo()
    np.testing.assert_allclose(cg.colour_r(x, x), 1.0)
    np.testing.assert_allclose(cg.colour_r(x, x, inverted=[True, False]), [-1.0, 1.0])
    # per-channel offsets and a common gain change no chroma correlation
    np.testing.assert_allclose(cg.colour_r(3 * x + torch.tensor([0.1, -2.0, 5.0])[:, None, None], x), 1.0)


def test_a_tinted_copy_of_the_geometry_has_no_colour():
    x = _photo()
    gray = torch.from_numpy(cg.metrics.grayscale(x)).float()[:, None]
    tinted = gray * torch.tensor([0.3, -1.0, 2.0])[:, None, None] + torch.tensor([0.5, 0.1, 0.0])[:, None, None]
    np.testing.assert_allclose(cg.colour_r(tinted, x), 0.0, atol=1e-6)
    np.testing.assert_allclose(cg.chroma(tinted), 0.0, atol=1e-6)
    assert np.isnan(cg.colour_r(gray, x)).all()  # a gray output has no colour
    assert (cg.colour_r(gray.repeat(1, 3, 1, 1), x) == 0).all()  # a gray RGB output has no chroma
    with pytest.raises(ValueError, match="N×3×H×W"):
        cg.chroma(gray)


def test_chroma_keeps_colour_the_gray_level_does_not_predict():
    x = _photo()
    c = cg.chroma(x)
    gray = cg.metrics.grayscale(x)
    gray = gray - gray.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose((c * gray[:, None]).sum(axis=(2, 3)), 0.0, atol=1e-9)  # orthogonal to the gray
    np.testing.assert_allclose(c.mean(axis=(2, 3)), 0.0, atol=1e-12)


TINY = {"random_cnn_random_dcn": dict(image_size=24, widths=[2, 4, 8], networks=3, images=2, kernel_sizes=[1, 3, 5],
                                      depth_size=24, depth_width=0.0625, depth_networks=2, shown=1, speed_width=4)}


@pytest.fixture(scope="module")
def chapter():
    matplotlib.use("Agg")
    return open_chapter("random_cnn_random_dcn", "smoke", sizes=TINY)


def _decided(claim_id, measured):
    verdict = claims.get(claim_id).decide(measured)
    assert verdict.state in STATES
    return verdict


def test_depth_study(chapter):
    depth = rrvgg_depth.run(chapter)
    assert set(depth.sweeps) == {(k, u) for k in rrvgg_depth.KINDS for u in rrvgg_depth.UPSAMPLINGS}
    assert depth.per_network().shape == (5, 2)
    # the zero-fill and the nearest run of a kind share their networks
    assert depth.sweeps["full", "zero"].seeds == depth.sweeps["full", "nearest"].seeds
    _decided("ssim_falls_with_depth", depth.falls_with_depth())
    _decided("simplified_matches_full", depth.simplified_matches_full())
    assert depth.scale_counts() == [2]
    assert depth.simplified_matches_full(1)["full"].shape == (5, 1)
    for fig in (depth.fig7(), depth.curves(), depth.scale_figure([1, 2])):
        assert fig.axes
    assert len(depth.rows()) == 5 and set(depth.values()) >= {"depth-nearest-phrase", "depth-full-first"}
    assert "depth" in chapter.results.numbers


def test_width_study(chapter):
    images = _photo(1)
    width = rrvgg_width.run(chapter, images)
    assert width.widths == [2, 4, 8] and width.limit_ssim.shape == (2,)
    # the max and the ℓ2 variant share their filters
    assert width.sweeps["variant"].seeds == width.sweeps["variant-l2"].seeds
    assert width.sweeps["original"].seeds != width.sweeps["variant"].seeds
    assert width.sweeps["variant-l2"].cosine.shape == (3, 3, 2)
    for claim_id, measured in (("variant_ssim_rises_with_width", width.rises()),
                               ("variant_trend_more_apparent", width.more_apparent()),
                               ("variant_spread_shrinks", width.spread())):
        _decided(claim_id, measured)
    values = width.values()
    assert values["limit-vs-l2"] in ("inside", "above", "below") and values["vgg-width"] == 8
    for fig in (width.fig8_9(), width.fig10(1), width.limit_figure(), width.spread_scale_figure()):
        assert fig.axes


def test_kernel_and_colour_studies(chapter):
    kernel = rrvgg_kernel.run(chapter, _photo(2))
    _decided("ssim_falls_with_kernel", kernel.falls_with_kernel())
    assert kernel.figure().axes and kernel.values()["kernel-last"] == 5
    colour = rrvgg_colour.run(chapter)
    measured = colour.measurements()
    assert measured["geometry_r"].shape == measured["colour_r"].shape == (3,)
    _decided("positions_kept_colours_lost", measured)
    assert colour.figure().axes
