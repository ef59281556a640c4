"""rdcn.core.architectures: the layer specs of He et al. §2.1 (Table 1), cuts, encoders and their DCNs."""
import pytest
import torch

from rdcn.core import architectures as arch
from rdcn.core.random_weights import randomize_

TABLE_1 = [("data", 3, (227, 227), 154_587), ("conv1", 64, (227, 227), 3_297_856),
           ("conv2", 128, (114, 114), 1_663_488), ("conv3", 256, (57, 57), 831_744), ("conv4", 512, (29, 29), 430_592),
           ("conv5", 512, (15, 15), 115_200)]


def test_table_1_exact():
    rows = arch.feature_table(arch.architecture("vgg16"), 227)
    assert [(r["layer"], r["channels"], r["shape"], r["dimension"]) for r in rows] == TABLE_1


def test_shape_arithmetic_agrees_with_a_real_forward_pass():
    for name in ("vgg16", "alexnet"):
        layers = arch.cut(arch.architecture(name, width=0.0625), "conv5")
        x = torch.zeros(1, 3, 99, 101)
        chain = arch.shape_chain(layers, (99, 101))
        encoder = arch.build_encoder(layers)
        i = 0
        for key, module in encoder.named_children():
            x = module(x)
            if not key.endswith("_act"):
                i += 1
                assert tuple(x.shape[-2:]) == chain[i], (name, key)


@pytest.mark.parametrize("arch_name", ["vgg16", "alexnet"])
@pytest.mark.parametrize("layer", ["conv1", "conv2", "conv5", "pool5"])
@pytest.mark.parametrize("size", [227, 64, 67])
def test_dcn_output_has_the_input_size(arch_name, layer, size):
    layers = arch.cut(arch.architecture(arch_name, width=0.0625), layer)
    net = arch.cnn_dcn(layers)
    assert net(torch.rand(2, 3, size, size)).shape == (2, 3, size, size)


def test_variant_outputs_one_channel_and_scales_by_width():
    layers = arch.same_width(arch.cut(arch.architecture("vgg16"), "pool1"), 16)
    net = arch.cnn_dcn(layers, "relu", "relu", pooling="l2", last="mean", width_scaling=True)
    assert net(torch.rand(1, 3, 20, 20)).shape == (1, 1, 20, 20)
    scales = [m.factor for m in net.modules() if type(m).__name__ == "Scale"]
    assert scales == pytest.approx([0.25] * 3)  # conv1_1, conv1_2, deconv1_2 (the last layer is the mean)


def test_zero_upsample_puts_values_top_left_of_zero_blocks():
    from rdcn.core.operators import ZeroUpsample

    x = torch.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    out = ZeroUpsample(2)(x, (3, 4))
    assert out[0, 0].tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0]]


def test_l2_pool_is_the_window_norm():
    from rdcn.core.operators import L2Pool

    x = torch.tensor([[[[3.0, 4.0, 1.0], [0.0, 0.0, 2.0]]]])
    out = L2Pool(2, 2, ceil_mode=True)(x)
    assert out[0, 0, 0].tolist() == pytest.approx([5.0, 5.0 ** 0.5])


def test_truncate_cuts_a_built_encoder_by_name():
    layers = arch.architecture("vgg16", width=0.125)
    encoder = arch.build_encoder(layers)
    assert [key for key, _ in arch.truncate(encoder, "conv2").named_children()][-1] == "conv2_2_act"
    assert [key for key, _ in arch.truncate(encoder, "pool2").named_children()][-1] == "pool2"
    part = arch.truncate(encoder, "conv3_1")
    rebuilt = arch.build_encoder(arch.cut(layers, "conv3_1"))
    rebuilt.load_state_dict(part.state_dict())
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(part(x), rebuilt(x))


@pytest.mark.parametrize("call, match", [
    (lambda: arch.architecture("resnet"), r"architecture must be one of \['vgg16', 'alexnet'\]"),
    (lambda: arch.architecture("vgg16", width=-1), r"width must be a finite positive number, got -1"),
    (lambda: arch.architecture("vgg16", kernel_size=0), r"kernel_size must be a positive integer, got 0"),
    (lambda: arch.cut(arch.architecture("vgg16"), "conv6"), r"layer must be one of \['conv1_1', 'conv1', .*'pool5'\]"),
    (lambda: arch.truncate(arch.build_encoder(arch.architecture("alexnet")), "fc6"), r"layer must be one of .*conv5"),
    (lambda: arch.cnn_dcn(arch.architecture("vgg16"), pooling="min"), r"pooling must be one of \['max', 'avg', 'l2'\]"),
    (lambda: arch.cnn_dcn(arch.architecture("vgg16"), "tanh"), r"activation must be one of \['relu', 'leaky'\]"),
    (lambda: arch.build_decoder(arch.architecture("vgg16"), upsample="bicubic"), r"upsample must be one of"),
    (lambda: arch.shape_chain(arch.architecture("alexnet"), (16, 16)), r"too small for layer"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_random_network_is_deterministic():
    layers = arch.cut(arch.architecture("vgg16", width=0.125), "conv2")
    a, b = (randomize_(arch.cnn_dcn(layers), "gaussian", 7) for _ in range(2))
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(a(x), b(x))
