import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import integrate, stats

from rdcn.core import architectures as arch
from rdcn.core.operators import L2Pool, ZeroUpsample
from rdcn.core.random_weights import randomize_
from rdcn.he import bounds, theory

CONV1 = arch.cut(arch.architecture("vgg16"), "pool1")
CONV1_GRAY = arch.cut(arch.architecture("vgg16", in_channels=1), "pool1")


def _images(n, size, seed, channels=3):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)).double()


def test_squared_relu_variance_ratio_by_quadrature():
    # Var σ(z)² / (E σ(z)²)² for z ~ N(0, s²): the conditional noise of a conv layer's energies.
    s = 0.015
    density = stats.norm(0, s).pdf
    second = integrate.quad(lambda z: z**2 * density(z), 0, 20 * s)[0]
    fourth = integrate.quad(lambda z: z**4 * density(z), 0, 20 * s)[0]
    assert fourth / second**2 - 1 == pytest.approx(bounds.SQUARED_RELU_VARIANCE_RATIO, rel=1e-8)


def test_theorem_5_2_bound():
    assert bounds.theorem_5_2_bound(4, 0.1) == math.pi / 2  # √((π − 1)/0.4) > 1
    assert bounds.theorem_5_2_bound(1000, 0.1) == pytest.approx(math.asin(math.sqrt((math.pi - 1) / 100)))
    with pytest.raises(ValueError, match="delta must lie in"):
        bounds.theorem_5_2_bound(10, 1.5)
    with pytest.raises(ValueError, match="delta must be a finite positive number"):
        bounds.theorem_5_2_bound(10, 0.0)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        bounds.theorem_5_2_bound(0, 0.1)
    with pytest.raises(ValueError, match="distribution must be one of"):
        bounds.theorem_5_2_bound(10, 0.1, "uniform")


def test_theorem_5_2_mean_squared_error_is_pi_minus_one_over_n():
    # The proof's exact moment: N E‖y − ȳ‖² / ‖ȳ‖² = c₂/c₁² − 1 = π − 1 (heavy-tailed: many networks).
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(8))
    two = theory.two_layer(3, in_channels=3)
    ybar = theory.limit(theory.variant(two, 1), x)
    ratios = []
    for seed in range(400):
        net = randomize_(theory.variant(two, 16), "gaussian", seed)
        with torch.no_grad():
            y = theory.paper_normalised(net, net(x)).double()
        ratios.append(16 * ((y - ybar) ** 2).sum() / (ybar**2).sum())
    assert torch.stack(ratios).mean().item() == pytest.approx(math.pi - 1, abs=0.5)


def test_theorem_5_3_is_theorem_5_2_for_one_conv():
    x = _images(3, 10, 1)
    two = theory.two_layer(3, in_channels=3)
    got = bounds.theorem_5_3_bounds(two, x, (16, 64, 1024), 0.1)
    expected = [bounds.theorem_5_2_bound(w, 0.1) for w in (16, 64, 1024)]
    assert np.allclose(got, np.array(expected)[:, None])


def test_theorem_5_3_bound_by_hand_for_conv1_deconv1():
    # Three convs, δ/3 each; A of every step from amplification(); R through the recursion of the module's note.
    x, width, delta = _images(2, 12, 2), 4096, 0.2
    factors = bounds.amplification(theory.variant(CONV1, 1), x)
    kinds = [s.conv for s in theory.energy_steps(theory.variant(CONV1, 1), (12, 12))]
    assert kinds == [True, True, False, False, True]
    beta = math.sqrt(5 * 3 / (width * delta))
    error = torch.zeros(2, dtype=torch.float64)
    for index, conv in enumerate(kinds[:-1]):
        error = factors[:, index].sqrt() * error
        if conv:
            error = (1 + beta) * error + beta
    error = factors[:, -1].sqrt() * error
    expected = torch.arcsin(error) + math.asin(math.sqrt((math.pi - 1) * 3 / (width * delta)))
    with torch.device("meta"):  # the bound reads the architecture only
        wide = theory.variant(CONV1, width)
    got = bounds.theorem_5_3_bound(wide, x, delta)
    assert torch.allclose(got, expected, rtol=1e-12)
    assert torch.equal(got, torch.as_tensor(bounds.theorem_5_3_bounds(CONV1, x, (width,), delta)[0]))


def test_amplification_is_one_for_partitions_and_bounds_the_relative_error():
    x = _images(3, 12, 3)
    net = theory.variant(CONV1, 1)
    factors = bounds.amplification(net, x)
    steps = theory.energy_steps(net, (12, 12))
    for index, step in enumerate(steps):
        if isinstance(step.module, (L2Pool, ZeroUpsample)):  # windows that partition: every pixel counted once
            assert torch.allclose(factors[:, index], torch.ones(3, dtype=torch.float64))
        else:
            assert torch.all(factors[:, index] >= 1)
    # The Jensen step of the proof: ‖Z‖² ≤ A ‖z‖² in the energy-weighted norms, for any relative error z.
    energy = (x * x).sum(1, keepdim=True)
    for index, step in enumerate(steps):
        limit = step.apply(energy)
        for seed in range(5):
            z = torch.randn(energy.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            big = step.apply(energy * z) / limit.clamp_min(1e-300)
            lhs = (limit * big**2).flatten(1).sum(1) / limit.flatten(1).sum(1)
            rhs = factors[:, index] * (energy * z**2).flatten(1).sum(1) / energy.flatten(1).sum(1)
            assert torch.all(lhs <= rhs * (1 + 1e-12))
        energy = limit


def test_the_square_root_step_of_theorem_5_3():
    # sin θ(√v, √v̄) ≤ ‖v/v̄ − 1‖ in the v̄-weighted norm, for any non-negative v.
    generator = torch.Generator().manual_seed(4)
    for _ in range(20):
        vbar = torch.rand(50, dtype=torch.float64, generator=generator) + 0.01
        v = vbar * torch.exp(torch.randn(50, dtype=torch.float64, generator=generator))
        z = v / vbar - 1
        cos = (v.sqrt() * vbar.sqrt()).sum() / (v.sum().sqrt() * vbar.sum().sqrt())
        assert math.sqrt(max(0.0, 1 - cos.item() ** 2)) <= math.sqrt((vbar * z**2).sum() / vbar.sum()) + 1e-12


def test_theorem_5_3_bound_holds_on_random_networks():
    # Wide enough for the bound to say something (< π/2); at most a share δ may exceed it.
    x, delta, width = _images(2, 8, 5), 0.5, 1024
    bound = torch.as_tensor(bounds.theorem_5_3_bounds(CONV1, x, (width,), delta)[0])
    assert torch.all(bound < math.pi / 2)
    ybar = theory.limit(theory.variant(CONV1, 1), x)
    exceeded = []
    for seed in range(4):
        net = randomize_(theory.variant(CONV1, width), "gaussian", seed)
        with torch.no_grad():
            y = theory.paper_normalised(net, net(x.float())).double()
        exceeded.append((theory.angle(y, ybar) > bound).double().mean())
    assert torch.stack(exceeded).mean() <= delta


def test_informative_width_is_where_the_bound_drops_below_the_angle():
    x = _images(2, 12, 6)
    width = bounds.informative_width(CONV1, x, 0.1)
    assert width is not None and width & (width - 1) == 0
    assert bounds.theorem_5_3_bounds(CONV1, x, (width,), 0.1).max() < math.pi / 2
    assert bounds.theorem_5_3_bounds(CONV1, x, (width // 2,), 0.1).max() >= math.pi / 2
    assert bounds.informative_width(CONV1, x, 0.1, angle=1e-6, largest=2**10) is None
    widths = (64, 256, 1024, 4096, 16384)
    assert np.all(np.diff(bounds.theorem_5_3_bounds(CONV1, x, widths, 0.1), axis=0) <= 0)


def test_route_counts_by_parity_and_the_one_route_hypothesis():
    # Conv1-DeConv1: behind the zero-fill upsampling an output pixel sees 1, 2 or 4 block corners.
    n = bounds.path_counts(theory.variant(CONV1_GRAY, 1), (12, 12))
    column = n.sum(0).reshape(12, 12)
    assert column[4, 4] == 4 * 81 and column[5, 4] == 2 * 4 * 81 and column[5, 5] == 4 * 4 * 81
    two = bounds.path_counts(theory.variant(theory.two_layer(3), 1), (5, 5))
    i, j = torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij")
    near = ((i.flatten()[:, None] - i.flatten()[None]).abs() <= 1) & (
        (j.flatten()[:, None] - j.flatten()[None]).abs() <= 1)
    assert torch.equal(two, near.double())
    assert bounds.route_census(two) == dict(max_routes=1.0, share_multiple=0.0, connected_pairs=int(near.sum()))
    census = bounds.route_census(n)
    assert census["max_routes"] > 1 and 0 < census["share_multiple"] < 1


@pytest.mark.parametrize("k", [1, 3, 5, 9])
def test_theorem_5_4_bounds_hold_on_random_positive_images(k):
    x = torch.rand(6, 1, 20, 20, generator=torch.Generator().manual_seed(k)) ** 3
    out = bounds.theorem_5_4(x, k)
    assert torch.all(out["bound_delta"] <= out["bound"] + 1e-12)
    assert torch.all(out["bound"] <= out["cos"] + 1e-12)
    if k == 1:
        assert torch.allclose(out["cos"], torch.ones(6, dtype=torch.float64))
    else:
        assert torch.all(out["cos"] < 1)


def test_theorem_5_4_sweep_and_its_values():
    x = torch.rand(3, 1, 16, 16, generator=torch.Generator().manual_seed(7))
    sweep = bounds.theorem_5_4_sweep(x, (1, 3, 5))
    assert sweep["cos"].shape == sweep["bound"].shape == sweep["bound_delta"].shape == (3, 3)
    assert np.allclose(sweep["cos"][1], bounds.theorem_5_4(x, 3)["cos"].numpy())
    values = bounds.theorem_5_4_values(sweep)
    assert values["k_second"] == 3 and values["k_last"] == 5
    assert values["min_gap"] == pytest.approx((sweep["cos"] - sweep["bound"])[1:].min())
    assert bounds.theorem_5_4_figure(sweep).axes


def test_multilayer_bound_holds_and_the_uniform_form_can_fail():
    x = torch.rand(8, 1, 12, 12, generator=torch.Generator().manual_seed(9))
    x = F.avg_pool2d(x, 3, 1, 1)  # smooth images, like photographs
    net = theory.variant(CONV1_GRAY, 1)
    out = bounds.cosine_bounds(net, x)
    assert torch.all(out["bound"] <= out["cos"] + 1e-12)
    assert torch.any(out["uniform_bound"] > out["cos"])  # the paper's form is no bound behind zero-fill
    again = bounds.cosine_bounds(net, x, bounds.path_counts(net, (12, 12)))
    assert all(torch.equal(out[k], again[k]) for k in out)
    assert len(bounds.cosine_bound_rows(out)) == 8


def test_gray_test_images_are_one_channel_and_non_negative():
    gray, text = bounds.gray_test_images(2, 16)
    assert gray.shape == (2, 1, 16, 16) and gray.min() >= 0 and "chelsea" in text


def test_bad_input_is_a_clear_error():
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="odd positive integer"):
        bounds.theorem_5_4(torch.rand(1, 1, 8, 8), 4)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer"):
        bounds.theorem_5_4(torch.rand(1, 1, 8, 8), 0)
    with pytest.raises(ValueError, match="non-negative"):
        bounds.theorem_5_4(-torch.rand(1, 1, 8, 8), 3)
    with pytest.raises(ValueError, match="one channel"):
        bounds.cosine_bounds(theory.variant(CONV1, 1), x)
    with pytest.raises(ValueError, match="non-zero pixel"):
        bounds.theorem_5_3_bound(theory.variant(CONV1, 8), torch.zeros(1, 3, 8, 8), 0.1)
    with pytest.raises(ValueError, match="distribution must be one of"):
        bounds.theorem_5_3_bound(theory.variant(CONV1, 8), x, 0.1, "laplace")
    with pytest.raises(ValueError, match="delta must lie in"):
        bounds.theorem_5_3_bound(theory.variant(CONV1, 8), x, 1.0)
    with pytest.raises(ValueError, match="covariance recursion"):
        bounds.theorem_5_3_bound(theory.variant(CONV1, 8, "avg"), x, 0.1)
    with pytest.raises(ValueError, match="widths must be a non-empty sequence"):
        bounds.theorem_5_3_bounds(CONV1, x, (), 0.1)
