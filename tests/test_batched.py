"""rdcn.he.batched: many random CNN-DCNs as one program, each equal to the network built alone from its seed."""
import pytest
import torch

from rdcn.core import architectures as arch
from rdcn.core import random_weights as rw
from rdcn.he import batched

VGG = arch.architecture("vgg16")
SMALL_VGG = arch.architecture("vgg16", width=1 / 16)
NETS = {
    "conv1-deconv1 N=3": arch.same_width(arch.cut(VGG, "pool1"), 3),
    "conv1-deconv1 N=8": arch.same_width(arch.cut(VGG, "pool1"), 8),
    "conv1_1 k=1": arch.cut(arch.architecture("vgg16", kernel_size=1), "conv1_1"),
    "conv1_1 k=5": arch.cut(arch.architecture("vgg16", kernel_size=5), "conv1_1"),
    "conv2-deconv2": arch.cut(SMALL_VGG, "conv2"),
    "simplified conv3": arch.simplified(SMALL_VGG, "conv3"),
}
VARIANTS = {"original": dict(last="conv", width_scaling=False), "variant": dict(last="mean", width_scaling=True)}
SEEDS = [11, 0, 2**31 + 5]


def images(n=2, size=19, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def built_alone(layers, seed, x, distribution="gaussian", **config):
    net = arch.cnn_dcn(layers, "relu", "relu", "max", "zero", **config)
    rw.randomize_(net, distribution, seed)
    with torch.no_grad():
        return net(x)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NETS)
def test_network_i_of_a_batch_equals_network_i_built_alone(name, variant):
    x = images()
    out = batched.RandomCNNDCNs(NETS[name], SEEDS, **VARIANTS[variant])(x)
    channels = 1 if variant == "variant" else 3
    assert out.shape == (len(SEEDS), len(x), channels, 19, 19)
    for i, seed in enumerate(SEEDS):
        alone = built_alone(NETS[name], seed, x, **VARIANTS[variant])
        torch.testing.assert_close(out[i], alone, rtol=1e-4, atol=1e-5 * alone.abs().max().item())
    assert (out[0] - out[1]).abs().max() > 0.01 * out[0].abs().max()  # different seeds, different networks


def test_a_network_does_not_depend_on_its_batch_or_chunk():
    layers, x = NETS["conv1-deconv1 N=8"], images(3)
    together = batched.all_outputs(layers, SEEDS, x)
    one_by_one = batched.all_outputs(layers, SEEDS, x, max_bytes=1)  # chunks of one network and one image
    torch.testing.assert_close(together, one_by_one)
    torch.testing.assert_close(batched.RandomCNNDCNs(layers, SEEDS[1:2])(x)[0], together[1])


def test_other_distributions_and_parameters_draw_as_randomize_does():
    layers, x = NETS["conv1-deconv1 N=3"], images()
    out = batched.RandomCNNDCNs(layers, [4], "laplace", params={"b": 0.02})(x)
    net = rw.randomize_(arch.cnn_dcn(layers, "relu", "relu"), "laplace", 4, b=0.02)
    with torch.no_grad():
        torch.testing.assert_close(out[0], net(x), rtol=1e-4, atol=1e-7)


def test_draw_weights_are_the_weights_randomize_writes():
    layers = NETS["conv2-deconv2"]
    net = rw.randomize_(arch.cnn_dcn(layers, "relu", "relu"), "uniform", 9)
    drawn = batched.draw_weights(batched.template(layers), 9, "uniform")
    written = [m.weight for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(drawn) == len(written) == 8
    for a, b in zip(drawn, written):
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)


def test_looped_outputs_and_speed_agree_with_the_batched_program():
    layers, x = NETS["conv1_1 k=5"], images()
    looped = batched.looped_outputs(layers, SEEDS, x, last="mean", width_scaling=True)
    torch.testing.assert_close(batched.all_outputs(layers, SEEDS, x, last="mean", width_scaling=True), looped)
    report = batched.speed(layers, SEEDS, x)
    assert report["outputs"] == len(SEEDS) * len(x)
    assert report["relative_difference"] < 1e-5
    assert report["batched_outputs_per_s"] > 0 and report["looped_outputs_per_s"] > 0


def test_chunk_sizes_fit_the_budget_and_take_at_least_one():
    assert batched.chunk_sizes(30, 50, per_pair=10, per_network=100, max_bytes=10**9) == (30, 50)
    nets, imgs = batched.chunk_sizes(30, 50, per_pair=10, per_network=100, max_bytes=1_000)
    assert nets == 9 and nets * 100 + nets * imgs * 10 <= 1_000
    assert batched.chunk_sizes(30, 50, per_pair=10**6, per_network=10**6, max_bytes=1) == (1, 1)
    with pytest.raises(ValueError, match="max_bytes"):
        batched.chunk_sizes(1, 1, 1, 1, 0)


def test_pair_bytes_counts_the_largest_map_and_the_weights():
    per_pair, per_network = batched.pair_bytes(NETS["conv1-deconv1 N=8"], (19, 19))
    assert per_pair == 4 * batched.MEMORY_FACTOR * 8 * 19 * 19
    assert per_network == 4 * 9 * (3 * 8 + 8 * 8 + 8 * 8 + 8 * 3)


def test_bad_input_is_refused_before_any_work():
    layers = NETS["conv1-deconv1 N=3"]
    with pytest.raises(ValueError, match="distribution"):
        batched.RandomCNNDCNs(layers, [0], "cauchy")
    with pytest.raises(ValueError, match="sigma|parameter"):
        batched.RandomCNNDCNs(layers, [0], params={"sigma": -1.0})
    with pytest.raises(ValueError, match="seeds"):
        batched.RandomCNNDCNs(layers, [])
    with pytest.raises(ValueError, match="seeds must be a non-negative integer"):
        batched.RandomCNNDCNs(layers, [1.5])
    with pytest.raises(ValueError, match="last"):
        batched.RandomCNNDCNs(layers, [0], last="median")
    with pytest.raises(ValueError, match="images"):
        next(batched.outputs(layers, [0], torch.zeros(2, 1, 8, 8)))
