"""The DCN's fused path (zero-fill upsampling and the conv after it as one strided transposed convolution) against
the literal one: the same outputs and gradients, at every cut of VGG16 and AlexNet, odd and even sizes."""
import itertools

import pytest
import torch
from torch import nn

from rdcn.core import architectures as arch
from rdcn.core import random_weights as rw
from rdcn.core import training
from rdcn.core.operators import NearestUpsample, ZeroUpsample, zero_upsample_conv
from rdcn.he import batched

VGG = arch.architecture("vgg16", width=1 / 16)
ALEXNET = arch.architecture("alexnet", width=1 / 16)


def assert_near(actual: torch.Tensor, expected: torch.Tensor, rel: float = 1e-5) -> None:
    # the two paths sum in different orders: seen ≤ 3e-6 over every cut below (1 and 2 threads)
    """Equal up to float32 rounding: every entry within ``rel`` × the largest magnitude of ``expected``."""
    assert actual.shape == expected.shape
    scale = expected.abs().max().clamp_min(torch.finfo(expected.dtype).tiny)
    error = float((actual - expected).abs().max() / scale)
    assert error <= rel, f"largest difference {error:.2e} of the largest magnitude"


def fused_and_literal(layers, seed=0, **config):
    """The same CNN-DCN twice (same weights, biases non-zero): fused and literal."""
    fused = arch.cnn_dcn(layers, **config)
    for module in fused.modules():
        if isinstance(module, nn.Conv2d):
            with torch.no_grad():
                module.bias.normal_(0, 0.1, generator=torch.Generator().manual_seed(seed))
    training.msra_(fused.decoder, torch.Generator().manual_seed(seed))
    literal = arch.cnn_dcn(layers, **config, fused=False)
    literal.load_state_dict(fused.state_dict())
    return fused, literal


def outputs_and_gradients(net, x, target):
    x = x.clone().requires_grad_(True)
    out = net(x)
    loss = training.sse(out, target).mean()
    params = [p for p in net.decoder.parameters()]
    grads = torch.autograd.grad(loss, [x, *params])
    return out.detach(), grads


def compare(layers, size, in_channels=3, **config):
    fused, literal = fused_and_literal(layers, **config)
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(2, in_channels, *size, generator=generator)
    channels = 1 if config.get("last") == "mean" else in_channels
    target = torch.rand(2, channels, *size, generator=generator)
    out_f, grads_f = outputs_and_gradients(fused, x, target)
    out_l, grads_l = outputs_and_gradients(literal, x, target)
    assert_near(out_f, out_l)
    for g_f, g_l in zip(grads_f, grads_l):
        assert_near(g_f, g_l)


@pytest.mark.parametrize("size", [(32, 32), (37, 37), (33, 40)])
@pytest.mark.parametrize("layer", arch.layer_names(VGG))
def test_vgg16_fused_equals_literal_at_every_cut(layer, size):
    compare(arch.cut(VGG, layer), size)  # 37 and 33 px: VGG's ceil-mode pools leave partial windows


@pytest.mark.parametrize("size", [(64, 64), (67, 67), (65, 70)])
@pytest.mark.parametrize("layer", arch.layer_names(ALEXNET))
def test_alexnet_fused_equals_literal_at_every_cut(layer, size):
    compare(arch.cut(ALEXNET, layer), size)  # stride-4 conv1 (11×11) and floor-mode 3×3/2 pools


@pytest.mark.parametrize("layers", [arch.same_width(arch.cut(VGG, "pool1"), 8), arch.cut(ALEXNET, "conv1"),
                                    arch.cut(VGG, "pool3")], ids=["vgg pool1 N=8", "alexnet conv1", "vgg pool3"])
def test_the_variant_with_its_mean_last_layer(layers):
    compare(layers, (35, 35) if layers[0].kernel == 3 else (67, 67), encoder_activation="relu",
            decoder_activation="relu", pooling="l2", last="mean", width_scaling=True)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_even_kernels_and_other_vgg_kernel_sizes():
    for kernel in (1, 2, 4, 5):
        compare(arch.cut(arch.architecture("vgg16", width=1 / 16, kernel_size=kernel), "conv3"), (29, 31))


def test_simplified_nets_upsample_by_the_product_of_the_strides():
    compare(arch.simplified(VGG, "conv5"), (40, 37))  # one ×16 upsampling


def test_nearest_upsampling_is_not_fused_and_unchanged():
    fused, literal = fused_and_literal(arch.cut(VGG, "conv3"), upsample="nearest")
    x = torch.rand(2, 3, 21, 22)
    assert torch.equal(fused(x), literal(x))


def test_the_fused_path_never_runs_the_upsampling_module(monkeypatch):
    calls = []
    monkeypatch.setattr(ZeroUpsample, "forward", lambda self, x, size: calls.append(size) or x)
    net = arch.cnn_dcn(arch.cut(VGG, "conv3"))
    net(torch.rand(1, 3, 16, 16))
    assert calls == []
    net.decoder.fused = False
    net(torch.rand(1, 3, 16, 16))
    assert len(calls) == 2


def test_module_structure_and_tables_are_the_literal_ones():
    layers = arch.cut(ALEXNET, "pool5")
    fused, literal = arch.cnn_dcn(layers), arch.cnn_dcn(layers, fused=False)
    assert [(k, v.shape) for k, v in fused.state_dict().items()] == [(k, v.shape) for k, v in
                                                                     literal.state_dict().items()]
    rows = arch.cnn_dcn_table(fused, 67)
    assert rows == arch.cnn_dcn_table(literal, 67)
    assert [r["layer"] for r in rows if r["layer"].startswith("up_")] == ["up_pool5", "up_pool2", "up_pool1",
                                                                          "up_conv1"]
    assert fused.decoder.fused  # the table ran a copy literally; the model keeps its path


def test_randomize_draws_the_same_weights_for_both_paths():
    layers = arch.cut(VGG, "conv2")
    fused = rw.randomize_(arch.cnn_dcn(layers), "gaussian", 3)
    literal = rw.randomize_(arch.cnn_dcn(layers, fused=False), "gaussian", 3)
    x = torch.rand(2, 3, 19, 19)
    with torch.no_grad():
        assert_near(fused(x), literal(x))
    for a, b in zip(fused.state_dict().values(), literal.state_dict().values()):
        assert torch.equal(a, b)


def test_batched_random_networks_equal_the_literal_networks_alone():
    layers, seeds = arch.same_width(arch.cut(VGG, "pool2"), 6), [5, 0, 9]
    x = torch.rand(2, 3, 23, 23, generator=torch.Generator().manual_seed(2))
    for config in ({}, dict(last="mean", width_scaling=True, pooling="l2")):
        together = batched.RandomCNNDCNs(layers, seeds, **config)(x)
        alone = batched.looped_outputs(layers, seeds, x, fused=False, **config)
        assert_near(together, alone)


@pytest.mark.parametrize("scale, kernel, padding, groups", list(itertools.product((2, 3, 4, 16), (1, 2, 3, 5, 11),
                                                                                 ("same", 0, 2), (1, 3))))
def test_the_operator_is_the_literal_map_exactly(scale, kernel, padding, groups):
    """In float64, on inputs shorter, as long as and longer than the target reaches: outputs and gradients."""
    generator = torch.Generator().manual_seed(scale * kernel)
    conv = nn.Conv2d(6, 9, kernel, padding=padding, groups=groups).double()
    for (height, width), size in [((3, 4), (5, 8)), ((4, 2), (13, 9)), ((5, 5), (2, 3)), ((2, 3), (16, 14))]:
        if padding != "same" and min(size) + 2 * padding < kernel:
            continue  # the literal conv has no output
        x = torch.randn(2, 6, height, width, dtype=torch.float64, generator=generator, requires_grad=True)
        literal = conv(ZeroUpsample(scale)(x, size))
        fused = zero_upsample_conv(x, scale, size, conv)
        torch.testing.assert_close(fused, literal, rtol=1e-12, atol=1e-12)
        seed = torch.randn(literal.shape, dtype=torch.float64, generator=generator)
        for a, b in zip(torch.autograd.grad(fused, [x, conv.weight, conv.bias], seed),
                        torch.autograd.grad(literal, [x, conv.weight, conv.bias], seed)):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_the_operator_refuses_what_it_cannot_fuse():
    with pytest.raises(ValueError, match="stride-1"):
        zero_upsample_conv(torch.zeros(1, 2, 3, 3), 2, (6, 6), nn.Conv2d(2, 2, 3, stride=2))
    assert issubclass(NearestUpsample, ZeroUpsample)  # the decoder tells them apart by exact type


def test_every_tensor_follows_the_input_to_its_device():
    """On the meta device (shapes only), a tensor the code made on the CPU would refuse to mix with the input's:
    the fused paths run where the data is (a GPU included) without copying anything to the host."""
    net = arch.cnn_dcn(arch.cut(ALEXNET, "pool5")).to("meta")
    assert net(torch.zeros(2, 3, 67, 67, device="meta")).shape == (2, 3, 67, 67)
    together = batched.RandomCNNDCNs(arch.same_width(arch.cut(VGG, "pool2"), 4), [0, 1], device="meta")
    assert together(torch.zeros(2, 3, 23, 23, device="meta")).shape == (2, 2, 3, 23, 23)
