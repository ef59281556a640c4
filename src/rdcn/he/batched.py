"""Many independently drawn random CNN-DCNs evaluated as one tensor program (He et al. §4).

The paper's §4 sweeps draw 30 random networks per setting and push 50 images through each. Instead of a Python
loop over networks, :class:`RandomCNNDCNs` stacks the networks as the *groups* of grouped convolutions: the maps of
network i are channels ``i·C … (i+1)·C − 1`` of one tensor, so every conv of every network is one
``F.conv2d(…, groups=networks)`` call, and the channel-wise layers (activations, pooling, scaling, upsampling) act
on all networks at once unchanged. The networks share the images: the first conv maps the common input with all
networks' filters stacked (``groups=1``). The DCN's zero-fill upsampling and the grouped conv after it run as one
grouped strided transposed convolution, as in every DCN (:class:`rdcn.core.architectures.Decoder`).

Network i draws its weights from its own seed exactly as
``randomize_(cnn_dcn(layers, …), distribution, seeds[i])`` does (every conv, in module order, from one CPU
generator, biases zero), so network i of a batch equals network i built alone, and a network does not depend on
which others share its batch. :func:`outputs` runs any number of networks on any number of images in chunks sized
to a memory budget.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from ..core import architectures as arch
from ..core import checks
from ..core import random_weights as rw
from ..core.operators import ChannelMean

#: Working memory per (network, image) pair, in multiples of its largest feature map: the map in, the map out and
#: the convolution's scratch space (an estimate; ``max_bytes`` is the knob where it is off).
MEMORY_FACTOR = 4
CPU_BUDGET_BYTES = 2 * 2**30
#: He et al. §4 uses plain ReLU in both halves (``cnn_dcn``'s own default for the DCN is the leaky ReLU of §3).
RELU = dict(encoder_activation="relu", decoder_activation="relu")


def grouped_conv(weight: torch.Tensor, networks: int, template: nn.Conv2d, shared_input: bool) -> nn.Conv2d:
    """One conv of ``networks`` networks at once (no bias: the §4 networks have none): ``weight`` is the networks'
    filters stacked along the output axis; ``shared_input`` (the first conv) maps a common input with all of them,
    otherwise network i's filters see only network i's channels (``groups = networks``). The filters are kept
    channels-last, so the maps are too (torch follows the weight's layout): on the CPU, grouped convolutions ran
    faster in that layout than in the default one when we timed both."""
    groups = 1 if shared_input else networks
    with torch.device("meta"):
        conv = nn.Conv2d(weight.shape[1] * groups, weight.shape[0], template.kernel_size, template.stride,
                         template.padding, template.dilation, groups, bias=False)
    conv.weight = nn.Parameter(weight.contiguous(memory_format=torch.channels_last), requires_grad=False)
    return conv


class GroupedChannelMean(nn.Module):
    """The variant's last layer (He et al. Definition 5.1) for ``networks`` networks: each network's mean over
    its own channels."""

    def __init__(self, networks: int):
        super().__init__()
        self.networks = networks
        self.mean = ChannelMean()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mean(x.unflatten(1, (self.networks, -1))).flatten(1, 2)


def template(layers: arch.Layers, **config) -> arch.CNNDCN:
    """The single-network CNN-DCN of ``layers`` built by :func:`rdcn.core.architectures.cnn_dcn` with ``config``
    (its keyword arguments; :data:`RELU` unless they say otherwise), on the meta device: shapes and module order,
    no memory."""
    with torch.device("meta"):
        return arch.cnn_dcn(layers, **{**RELU, **config})


def draw_weights(model: nn.Module, seed: int, distribution: str = "gaussian", **params: float) -> list[torch.Tensor]:
    """The conv weights :func:`rdcn.core.random_weights.randomize_` writes into ``model`` with ``seed``: one tensor per
    conv, in module order, drawn on the CPU (``model`` may live on the meta device)."""
    generator = rw.as_generator(seed)
    return [rw.sample(distribution, m.weight.shape, generator, **params) for m in model.modules()
            if isinstance(m, nn.Conv2d)]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one network, got an empty list")
    return [checks.seed(seed, "seeds") for seed in seeds]


class RandomCNNDCNs(nn.Module):
    """``len(seeds)`` random CNN-DCNs of ``layers`` as one module; ``forward(x)`` (M×C×H×W images) returns the
    networks' outputs as networks × M × C_out × H × W, ``out[i]`` being what network i built alone returns.

    ``config`` are :func:`rdcn.core.architectures.cnn_dcn`'s keyword arguments (the §4 defaults: ReLU in both halves,
    max pooling, zero-fill upsampling; ``last="mean", width_scaling=True`` for the paper's variant);
    ``distribution`` and ``params`` those of :func:`rdcn.core.random_weights.randomize_`.
    """

    def __init__(self, layers: arch.Layers, seeds: Sequence[int], distribution: str = "gaussian",
                 device: str | torch.device = "cpu", params: dict | None = None, **config):
        super().__init__()
        seeds, params = _check_seeds(seeds), dict(params or {})
        rw.parameters(distribution, **params)  # validate before drawing anything
        net = template(layers, **config)
        draws = [draw_weights(net, seed, distribution, **params) for seed in seeds]
        self.networks = len(seeds)
        convs = [(name, m) for name, m in net.named_modules() if isinstance(m, nn.Conv2d)]
        for index, (name, conv) in enumerate(convs):
            weight = torch.cat([d[index] for d in draws]).to(device)
            self._replace(net, name, grouped_conv(weight, self.networks, conv, shared_input=index == 0))
        for name, m in list(net.named_modules()):
            if isinstance(m, ChannelMean):
                self._replace(net, name, GroupedChannelMean(self.networks))
        self.net = net

    @staticmethod
    def _replace(net: nn.Module, name: str, module: nn.Module) -> None:
        parent, _, child = name.rpartition(".")
        setattr(net.get_submodule(parent), child, module)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).unflatten(1, (self.networks, -1)).transpose(0, 1)


def pair_bytes(layers: arch.Layers, size: tuple[int, int], **config) -> tuple[int, int]:
    """(working bytes per network-image pair, weight bytes per network) of the CNN-DCN of ``layers`` on a
    ``size`` input: :data:`MEMORY_FACTOR` × its largest float32 map (found by a meta-device forward), and its
    weights."""
    net = template(layers, **config)
    net.decoder.fused = False  # the literal path's maps: an upper bound, whichever path runs
    largest = 0

    def track(module, args, output):
        nonlocal largest
        largest = max(largest, output.numel())

    leaves = [m for m in net.modules() if not list(m.children())]
    handles = [m.register_forward_hook(track) for m in leaves]
    try:
        net(torch.zeros(1, layers[0].in_channels, *size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    weights = sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))
    return 4 * MEMORY_FACTOR * largest, 4 * weights


def default_budget(device: str | torch.device) -> int:
    """Bytes a chunk may use: :data:`CPU_BUDGET_BYTES` on the CPU, half the free memory of a GPU."""
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return free // 2
    return CPU_BUDGET_BYTES


def chunk_sizes(networks: int, images: int, per_pair: int, per_network: int, max_bytes: int) -> tuple[int, int]:
    """(networks, images) per chunk: as many networks as fit with one image each, then as many images as fit
    beside them; at least one of each."""
    checks.positive_int("max_bytes", max_bytes)
    nets = max(1, min(networks, max_bytes // (per_network + per_pair)))
    imgs = max(1, min(images, (max_bytes - nets * per_network) // max(1, nets * per_pair)))
    return nets, imgs


def outputs(layers: arch.Layers, seeds: Sequence[int], images: torch.Tensor, distribution: str = "gaussian",
            device: str | torch.device = "cpu", max_bytes: int | None = None, params: dict | None = None,
            **config) -> Iterator[tuple[range, range, torch.Tensor]]:
    """Run the random CNN-DCNs of ``seeds`` (see :class:`RandomCNNDCNs`) on ``images`` (M×C×H×W), chunked so that a
    chunk needs at most ``max_bytes`` (default :func:`default_budget`). Yields (network indices, image indices,
    outputs of those networks on those images: n×m×C_out×H×W on ``device``); the weights of a chunk of networks
    are drawn once, for all its image chunks."""
    seeds = _check_seeds(seeds)
    if images.ndim != 4 or images.shape[1] != layers[0].in_channels:
        raise ValueError(f"images must be M×{layers[0].in_channels}×H×W, got shape {tuple(images.shape)}")
    per_pair, per_network = pair_bytes(layers, tuple(images.shape[-2:]), **config)
    budget = default_budget(device) if max_bytes is None else max_bytes
    nets, imgs = chunk_sizes(len(seeds), len(images), per_pair, per_network, budget)
    for n0 in range(0, len(seeds), nets):
        chunk = range(n0, min(n0 + nets, len(seeds)))
        model = RandomCNNDCNs(layers, [seeds[i] for i in chunk], distribution, device, params, **config)
        for m0 in range(0, len(images), imgs):
            part = range(m0, min(m0 + imgs, len(images)))
            yield chunk, part, model(images[m0 : part.stop].to(device))


def all_outputs(layers: arch.Layers, seeds: Sequence[int], images: torch.Tensor, **kwargs) -> torch.Tensor:
    """Every output of :func:`outputs` (same arguments) gathered on the CPU: networks × M × C_out × H × W."""
    result = None
    for chunk, part, out in outputs(layers, seeds, images, **kwargs):
        if result is None:
            result = torch.empty(len(seeds), len(images), *out.shape[2:])
        result[chunk.start : chunk.stop, part.start : part.stop] = out.cpu()
    return result


def looped_outputs(layers: arch.Layers, seeds: Sequence[int], images: torch.Tensor, distribution: str = "gaussian",
                   device: str | torch.device = "cpu", params: dict | None = None, **config) -> torch.Tensor:
    """The plain way, one network at a time: ``randomize_(cnn_dcn(layers, …), distribution, seed)`` for each seed,
    run on ``images``; networks × M × C_out × H × W. The reference :class:`RandomCNNDCNs` must equal."""
    results, params = [], dict(params or {})
    for seed in _check_seeds(seeds):
        net = rw.randomize_(arch.cnn_dcn(layers, **{**RELU, **config}), distribution, seed, **params).to(device)
        with torch.no_grad():
            results.append(net(images.to(device)))
    return torch.stack(results)


def _synchronize(device: str | torch.device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def speed(layers: arch.Layers, seeds: Sequence[int], images: torch.Tensor, device: str | torch.device = "cpu",
          max_bytes: int | None = None, **config) -> dict:
    """Outputs per second (one output = one network on one image, weights drawn included) of the batched program
    (:func:`outputs`) and of the plain loop (:func:`looped_outputs`) on the same workload, their ratio, and the
    largest difference between the two results relative to the largest output."""
    timings, results = {}, {}
    for name in ("batched", "looped"):
        _synchronize(device)
        start = time.perf_counter()
        if name == "batched":
            out = all_outputs(layers, seeds, images, device=device, max_bytes=max_bytes, **config)
        else:
            out = looped_outputs(layers, seeds, images, device=device, **config).cpu()
        _synchronize(device)
        timings[name], results[name] = time.perf_counter() - start, out
    count = len(seeds) * len(images)
    scale = results["looped"].abs().max().clamp_min(torch.finfo(torch.float32).tiny)
    return dict(outputs=count, batched_outputs_per_s=count / timings["batched"],
                looped_outputs_per_s=count / timings["looped"], ratio=timings["looped"] / timings["batched"],
                relative_difference=float((results["batched"] - results["looped"]).abs().max() / scale))
