import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rdcn.core import architectures as arch
from rdcn.core.architectures import Conv, Pool
from rdcn.core.random_weights import randomize_
from rdcn.he import theory
from rdcn.he.arccos_kernel import relu_constants

C1, C2 = relu_constants("gaussian")
CONV1 = arch.cut(arch.architecture("vgg16"), "pool1")


def _wide_average(layers, x, width, seeds, pooling="l2", distribution="gaussian"):
    """Brute force: the mean over seeds of random variants' outputs, in the paper's normalisation."""
    outs = []
    for seed in seeds:
        net = randomize_(theory.variant(layers, width, pooling), distribution, seed)
        with torch.no_grad():
            outs.append(theory.paper_normalised(net, net(x)).double())
    return torch.stack(outs).mean(0)


def _ones_network(layers, pooling="avg"):
    """The linear 'all-ones' network of ``layers``: width 1, every filter 1, no scaling (A of Theorem 5.1)."""
    net = arch.cnn_dcn(arch.same_width(layers, 1), "relu", "relu", pooling, "zero", "mean", width_scaling=False)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def test_one_conv_on_a_constant_image_by_hand():
    # ȳ_j = c₁·‖x_{R_j}‖: a 3×3 window holds 9 pixels inside, 6 on an edge, 4 in a corner.
    x = torch.full((1, 1, 5, 5), 2.0)
    ybar = theory.limit(theory.variant(theory.two_layer(3), 7), x)[0, 0]
    rows = torch.tensor([2.0, 3, 3, 3, 2], dtype=torch.float64)  # pixels of a window inside the image, per axis
    assert torch.allclose(ybar, C1 * 2.0 * torch.sqrt(rows[:, None] * rows[None]), rtol=1e-12)
    assert ybar[2, 2] == pytest.approx(C1 * 2.0 * 3.0, rel=1e-12)  # interior: √9 = 3
    # three channels add their energies
    x3 = torch.full((1, 3, 5, 5), 2.0)
    ybar3 = theory.limit(theory.variant(theory.two_layer(3, in_channels=3), 1), x3)[0, 0]
    assert torch.allclose(ybar3, math.sqrt(3) * ybar, rtol=1e-12)


@pytest.mark.parametrize("name, cut, pools", [("vgg16", "pool1", 1), ("vgg16", "conv2", 1), ("vgg16", "pool2", 2),
                                              ("alexnet", "conv2", 1)])
def test_limit_is_the_square_root_of_the_all_ones_network_on_x_squared(name, cut, pools):
    # Theorem 5.1: ȳ = c₁ c₂^{(n−1)/2} √(A(Σ_c x²)), A the linear network with all-ones filters and sum pooling
    # (average pooling times the window size: all windows are full at these sizes).
    layers = arch.cut(arch.architecture(name), cut)
    ones = _ones_network(arch.cut(arch.architecture(name, in_channels=1), cut))
    window = 4 if name == "vgg16" else 9
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        routes = ones.double()((x * x).sum(1, keepdim=True)) * window**pools
    n = sum(isinstance(layer, Conv) for layer in layers) * 2 - 1  # encoder convs + decoder convs − the mean's
    expected = C1 * C2 ** ((n - 1) / 2) * routes.sqrt()
    assert torch.allclose(theory.limit(theory.variant(layers, 1), x), expected, rtol=1e-9)


@pytest.mark.parametrize("pooling", ["l2", "avg"])
def test_wide_random_networks_average_to_the_limit(pooling):
    x = torch.rand(1, 3, 10, 10, generator=torch.Generator().manual_seed(2))
    ybar = theory.limit(theory.variant(CONV1, 1, pooling), x)
    mean = _wide_average(CONV1, x, 384, range(4), pooling)
    assert theory.cosine(mean, ybar).item() > 0.999
    assert (mean.norm() / ybar.norm()).item() == pytest.approx(1, abs=0.1)
    # the zero-fill grid is in the networks: the limit without it (nearest upsampling) is far worse
    nearest = theory.limit(theory.variant(CONV1, 1, pooling, upsample="nearest"), x)
    assert theory.cosine(mean, nearest).item() < 0.99


def test_each_pooling_converges_to_its_own_limit():
    # A net where ℓ2 and average pooling have clearly different limits: a 1×1 conv after the pooling.
    layers = (Conv("conv1_1", 1, 4, 3), Pool("pool1", 2, 2, True), Conv("conv2_1", 4, 4, 1))
    x = torch.randn(1, 1, 10, 10, generator=torch.Generator().manual_seed(0))
    limits = {p: theory.limit(theory.variant(layers, 1, p), x) for p in ("l2", "avg")}
    assert theory.cosine(limits["l2"], limits["avg"]).item() < 0.999
    for pooling, other in [("l2", "avg"), ("avg", "l2")]:
        mean = _wide_average(layers, x, 512, range(4), pooling)
        assert theory.cosine(mean, limits[pooling]) > theory.cosine(mean, limits[other]) + 5e-4


def test_average_pooling_after_the_last_conv_and_strided_convs():
    # AlexNet's pool1: conv1 (stride 4) → pool → upsamplings → mean; the pooling acts on first moments.
    layers = arch.cut(arch.architecture("alexnet"), "pool1")
    x = torch.rand(1, 3, 31, 31, generator=torch.Generator().manual_seed(3))
    ybar = theory.limit(theory.variant(layers, 1, "avg"), x)
    assert theory.cosine(_wide_average(layers, x, 512, range(3), "avg"), ybar).item() > 0.9995
    with pytest.raises(ValueError, match="ℓ2 pooling between the last conv and the mean"):
        theory.limit(theory.variant(layers, 1, "l2"), x)


def test_energy_and_covariance_recursions_agree_without_pooling():
    x = torch.randn(2, 3, 9, 9, generator=torch.Generator().manual_seed(4))
    net = theory.variant(arch.cut(arch.architecture("vgg16"), "conv1"), 1)
    energy, covariance = theory.limit(net, x, method="energy"), theory.limit(net, x, method="covariance")
    assert torch.allclose(energy, covariance, rtol=1e-10)


def test_window_gram_is_the_gram_of_the_conv_patches():
    x = torch.randn(1, 5, 7, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    K = torch.einsum("bchw,bcij->bhwij", x, x)
    for conv in [nn.Conv2d(5, 1, 3, padding="same"), nn.Conv2d(5, 1, 4, padding="same"),
                 nn.Conv2d(5, 1, 5, stride=2, padding=1), nn.Conv2d(5, 1, 2, stride=3)]:
        pad = theory._pads(conv)
        padded = F.pad(x, (*pad[1], *pad[0]))
        patches = F.unfold(padded, conv.kernel_size, stride=conv.stride)[0]  # (C·k²) × positions
        out = theory._window_gram(K, conv)
        assert torch.allclose(out.reshape(patches.shape[1], -1), patches.T @ patches, rtol=1e-12), conv


def test_both_sides_is_p_k_p_transpose():
    K = torch.randn(1, 6, 6, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    pool = nn.AvgPool2d(2, 2, ceil_mode=True)
    P = pool(torch.eye(36, dtype=torch.float64).reshape(36, 1, 6, 6)).reshape(36, 9).T  # 9 × 36
    out = theory._both_sides(K, pool, None).reshape(9, 9)
    assert torch.allclose(out, P @ K.reshape(36, 36) @ P.T, rtol=1e-12)


def test_non_gaussian_filters_share_the_limit_once_the_mean_follows_two_convs():
    # c₂ = s²/2 for every symmetric law; the last conv's fan-in grows: same direction as the Gaussian limit.
    x = torch.rand(1, 3, 10, 10, generator=torch.Generator().manual_seed(7))
    gauss = theory.limit(theory.variant(CONV1, 1), x)
    uniform = theory.limit(theory.variant(CONV1, 1), x, "uniform")
    assert theory.cosine(gauss, uniform).item() == pytest.approx(1, abs=1e-12)
    mean = _wide_average(CONV1, x, 384, range(3), distribution="uniform")
    assert theory.cosine(mean, uniform).item() > 0.998
    assert (mean.norm() / uniform.norm()).item() == pytest.approx(1, abs=0.1)  # c₁, c₂ of the uniform law


def test_paper_normalisation_multiplies_by_root_width():
    net = randomize_(theory.variant(CONV1, 16), "gaussian", 0)
    y = torch.rand(1, 1, 4, 4)
    assert torch.allclose(theory.paper_normalised(net, y), 4 * y)


def test_angle_and_cosine():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[0.0, 2.0], [1.0, 1e-9]])
    assert torch.allclose(theory.angle(a, b), torch.tensor([math.pi / 2, 1e-9], dtype=torch.float64), rtol=1e-6)
    assert torch.allclose(theory.cosine(a * 1e-20, b), torch.tensor([0.0, 1.0], dtype=torch.float64))


@pytest.mark.parametrize("build, match", [
    (lambda: theory.variant(CONV1, 1, "max"), r"pooling must be one of \['l2', 'avg'\]"),
    (lambda: arch.cnn_dcn(CONV1, "relu", "leaky", "l2", "zero", "mean", True), "activation must be 'relu'"),
    (lambda: arch.cnn_dcn(CONV1, "relu", "relu", "l2", "zero", "mean", False), "width_scaling=True"),
    (lambda: arch.cnn_dcn(CONV1, "relu", "relu", "l2", "zero", "conv", True), "last='mean'"),
])
def test_networks_outside_the_theorem_are_clear_errors(build, match):
    with pytest.raises(ValueError, match=match):
        theory.limit(build(), torch.rand(1, 3, 8, 8))


def test_bad_input_is_a_clear_error():
    x = torch.rand(1, 3, 8, 8)
    net = theory.variant(CONV1, 1)
    with pytest.raises(TypeError, match="CNN-DCN built by rdcn"):
        theory.limit(nn.Conv2d(3, 1, 3), x)
    with pytest.raises(ValueError, match="distribution must be one of"):
        theory.limit(net, x, "cauchy")
    with pytest.raises(ValueError, match="method must be one of"):
        theory.limit(net, x, method="exact")
    with pytest.raises(ValueError, match="covers average pooling only"):
        theory.limit(net, x, method="covariance")
    with pytest.raises(ValueError, match="needs method='covariance'"):
        theory.limit(theory.variant(CONV1, 1, "avg"), x, method="energy")
    with pytest.raises(ValueError, match="x has 1 channels"):
        theory.limit(net, torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="B × C × H × W"):
        theory.limit(net, torch.rand(8, 8))
    with pytest.raises(ValueError, match="only 'gaussian' is exact"):
        theory.limit(theory.variant(theory.two_layer(3, 3), 1), x, "laplace")
    with pytest.raises(ValueError, match="only 'gaussian' is exact"):
        theory.limit(theory.variant(CONV1, 1, "avg"), x, "uniform")


@pytest.mark.parametrize("name, cut, pooling", [("vgg16", "pool1", "l2"), ("vgg16", "pool2", "l2"),
                                                ("vgg16", "conv1", "l2")])
def test_energy_steps_compose_to_the_limit(name, cut, pooling):
    # ȳ = c₁ √(window sum of e) after c₂ × every earlier conv's window sum (Theorem A.1), step by step.
    net = theory.variant(arch.cut(arch.architecture(name), cut), 1, pooling)
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(11)).double()
    energy = (x * x).sum(1, keepdim=True)
    steps = theory.energy_steps(net, (16, 16))
    assert steps[-1].last and steps[-1].conv and sum(s.last for s in steps) == 1
    for step in steps:
        energy = step.apply(energy) * (C2 if step.conv and not step.last else 1)
    assert torch.allclose(C1 * energy.sqrt(), theory.limit(net, x), rtol=1e-12)


def test_energy_steps_are_linear_and_refuse_what_they_do_not_cover():
    net = theory.variant(CONV1, 1)
    a, b = (torch.randn(1, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(i))
            for i in (1, 2))
    for step in theory.energy_steps(net, (12, 12)):
        assert torch.allclose(step.apply(2 * a - b), 2 * step.apply(a) - step.apply(b), atol=1e-12)
        a, b = step.apply(a), step.apply(b)
    with pytest.raises(ValueError, match="covariance recursion"):
        theory.energy_steps(theory.variant(CONV1, 1, "avg"), (12, 12))
    alexnet = arch.cut(arch.architecture("alexnet"), "conv1")  # stride 4: an upsampling between conv and mean
    with pytest.raises(ValueError, match="followed only by"):
        theory.energy_steps(theory.variant(alexnet, 1), (31, 31))
