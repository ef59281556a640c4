"""CNN encoders (VGG16, AlexNet) cut at any layer, and the mirrored DCN (He et al. §2.1, Table 1).

An architecture is a tuple of layer specs (:class:`Conv`, :class:`Pool`); builders turn a spec into modules:

- :func:`architecture` — VGG16 (config D, Caffe's ceil-mode pooling, so 227×227 gives Table 1 exactly) or
  AlexNet (torchvision's layout so its ImageNet weights load), any width multiplier, any VGG kernel size.
- :func:`cut` — the layers up to a named output: ``convK`` (block K's output after the activation, before the
  pooling: the paper's "ConvK features"), ``convK_i`` (one conv), ``poolK`` (block K including its pooling,
  the Conv1-DeConv1 of the paper's §4.2).
- :func:`simplified` — the paper's §4.1 "simplified" net: input → one conv with ConvK's width and shape.
- :func:`build_encoder` / :func:`build_decoder` / :func:`cnn_dcn` — modules. The DCN is the encoder's layer
  sequence inverted (Dosovitskiy & Brox): a stride-s layer becomes a ×s zero-fill upsampling (nearest as an
  option), each conv a conv with the same kernel from its output width back to its input width; the last conv
  outputs the input's channels with no activation (or, for the paper's *variant*, is the mean over channels).
  Upsampling goes to the exact size the mirrored layer consumed, so every DeConv map is registered with its Conv
  map and the output has the input's size (the paper's final Crop, done stage by stage). A zero-fill upsampling
  and the conv after it run as one strided transposed convolution (the same map, without multiplying the
  inserted zeros); ``fused=False`` keeps the literal steps.

How torchvision's AlexNet differs from Caffe's (the paper's): 64/192/384/256/256 channels instead of
96/256/384/384/256, conv1 padded by 2, no local response normalisation and no grouped convolutions.
"""
from __future__ import annotations

import copy
import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import torch
from torch import nn

from . import checks
from .operators import ChannelMean, L2Pool, NearestUpsample, Scale, ZeroUpsample, zero_upsample_conv

ARCHITECTURES = ("vgg16", "alexnet")
ACTIVATIONS = ("relu", "leaky")
POOLINGS = ("max", "avg", "l2")
UPSAMPLINGS = ("zero", "nearest")
LAST_LAYERS = ("conv", "mean")
LEAKY_SLOPE = 0.2  # He et al. §2.1


@dataclass(frozen=True)
class Conv:
    """A convolution: ``padding=None`` keeps the size at stride 1 ("same")."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int | None = None


@dataclass(frozen=True)
class Pool:
    """A pooling window; ``ceil_mode`` as in Caffe (VGG) or floor (torchvision's AlexNet)."""

    name: str
    kernel: int
    stride: int
    ceil_mode: bool


Layers = tuple[Conv | Pool, ...]  #: an architecture: its layer specs from the input on

_VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def architecture(name: str = "vgg16", width: float = 1.0, kernel_size: int = 3, in_channels: int = 3) -> Layers:
    """The layer specs of ``name`` (one of :data:`ARCHITECTURES`), every width multiplied by ``width``.

    ``kernel_size`` sets every VGG conv's kernel (3 is VGG16's own; AlexNet keeps its kernels).
    """
    checks.choice("architecture", name, ARCHITECTURES)
    checks.positive_number("width", width)
    checks.positive_int("kernel_size", kernel_size)
    checks.positive_int("in_channels", in_channels)
    layers, c_in = [], in_channels
    if name == "vgg16":
        for block, (channels, n) in enumerate(_VGG16_BLOCKS, start=1):
            for i in range(1, n + 1):
                c_out = _scaled(channels, width)
                layers.append(Conv(f"conv{block}_{i}", c_in, c_out, kernel_size))
                c_in = c_out
            layers.append(Pool(f"pool{block}", 2, 2, ceil_mode=True))
        return tuple(layers)
    if kernel_size != 3:
        raise ValueError("kernel_size applies to vgg16 only; alexnet keeps its own kernels (11, 5, 3, 3, 3)")
    specs = ((64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False), (256, 3, 1, 1, False),
             (256, 3, 1, 1, True))
    for block, (channels, k, s, p, pooled) in enumerate(specs, start=1):
        c_out = _scaled(channels, width)
        layers.append(Conv(f"conv{block}", c_in, c_out, k, s, p))
        c_in = c_out
        if pooled:
            layers.append(Pool(f"pool{block}", 3, 2, ceil_mode=False))
    return tuple(layers)


def _with_blocks(names: list[str]) -> list[str]:
    out = []
    for name in names:
        out.append(name)
        if name.startswith("conv") and "_" in name:
            out.append(name.split("_")[0])
    return list(dict.fromkeys(out))


def layer_names(layers: Layers) -> list[str]:
    """Every name :func:`cut` accepts for ``layers``: blocks ``convK``, single convs ``convK_i``, ``poolK``."""
    return _with_blocks([layer.name for layer in layers])


def cut(layers: Layers, name: str) -> Layers:
    """The layers from the input up to ``name`` (see :func:`layer_names`), a ValueError listing them if unknown."""
    end = None
    for i, layer in enumerate(layers):
        if layer.name == name or (isinstance(layer, Conv) and layer.name.split("_")[0] == name):
            end = i
    if end is None:
        raise ValueError(f"layer must be one of {layer_names(layers)}, got {name!r}")
    return tuple(layers[: end + 1])


def convs(layers: Layers) -> list[Conv]:
    return [layer for layer in layers if isinstance(layer, Conv)]


def same_width(layers: Layers, width: int) -> Layers:
    """Every conv given ``width`` output channels (the input's channels kept): the paper's §4.2 nets."""
    checks.positive_int("width", width)
    out, c_in = [], None
    for layer in layers:
        if isinstance(layer, Conv):
            layer = replace(layer, in_channels=layer.in_channels if c_in is None else c_in, out_channels=width)
            c_in = width
        out.append(layer)
    return tuple(out)


def simplified(layers: Layers, name: str, kind: str = "pooled") -> Layers:
    """He et al. §4.1's simplified "input-ConvK-DeConvK-output" net for ``name``: the input straight into one conv
    of ConvK's width, giving (for VGG16's 227×227) exactly ConvK's shape; its DCN mirrors it as for any cut.

    The paper gives only those words; ``kind`` says how the shape is reached, with s the product of the cut's
    strides (2^(K−1) for VGG16's ConvK):

    - ``"pooled"`` (the default; no pixel discarded): the conv at stride 1 with the first conv's kernel, then one
      pooling window of size and stride s (ceil mode as the cut's pools); the DCN mirrors it by one ×s upsampling.
    - ``"strided"`` (an alternative): the conv itself at stride s, kernel and padding of the first conv, which
      sees only the pixels under its kernel (a 3×3 conv at stride 16 sees 9 of every 256).
    """
    checks.choice("kind", kind, ("pooled", "strided"))
    part = cut(layers, name)
    first, last = convs(part)[0], convs(part)[-1]
    stride = math.prod(layer.stride for layer in part)
    if kind == "strided":
        padding = first.kernel // 2 if first.padding is None else first.padding
        return (Conv(f"{name}_simplified", first.in_channels, last.out_channels, first.kernel, stride, padding),)
    conv = Conv(f"{name}_simplified", first.in_channels, last.out_channels, first.kernel)
    if stride == 1:
        return (conv,)
    pools = [layer for layer in part if isinstance(layer, Pool)]
    ceil_mode = pools[-1].ceil_mode if pools else True
    return conv, Pool(f"{name}_simplified_pool", stride, stride, ceil_mode)


def _out_size(n: int, layer) -> int:
    if isinstance(layer, Conv):
        if layer.padding is None:
            if layer.stride != 1:
                raise ValueError(f"{layer.name}: 'same' padding needs stride 1")
            return n
        return (n + 2 * layer.padding - layer.kernel) // layer.stride + 1
    span = n - layer.kernel
    out = (-(-span // layer.stride) if layer.ceil_mode else span // layer.stride) + 1
    if layer.ceil_mode and (out - 1) * layer.stride >= n:  # the last window must start inside the input
        out -= 1
    return out


@functools.lru_cache(maxsize=256)
def shape_chain(layers: Layers, size: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """Spatial sizes by arithmetic: entry i is the input of layer i, the last entry the output."""
    sizes = [tuple(size)]
    for layer in layers:
        h, w = (_out_size(n, layer) for n in sizes[-1])
        if h < 1 or w < 1:
            raise ValueError(f"input size {tuple(size)} is too small for layer {layer.name!r}")
        sizes.append((h, w))
    return tuple(sizes)


def _activation(kind: str) -> nn.Module:
    checks.choice("activation", kind, ACTIVATIONS)
    return nn.ReLU() if kind == "relu" else nn.LeakyReLU(LEAKY_SLOPE)


def _pool(layer: Pool, kind: str) -> nn.Module:
    checks.choice("pooling", kind, POOLINGS)
    if kind == "max":
        return nn.MaxPool2d(layer.kernel, layer.stride, ceil_mode=layer.ceil_mode)
    if kind == "avg":
        return nn.AvgPool2d(layer.kernel, layer.stride, ceil_mode=layer.ceil_mode)
    return L2Pool(layer.kernel, layer.stride, layer.ceil_mode)


def build_encoder(layers: Layers, activation: str = "relu", pooling: str = "max",
                  width_scaling: bool = False) -> nn.Sequential:
    """The CNN of ``layers``: each conv followed by ``activation`` (and by 1/√N if ``width_scaling``, the
    variant's normalisation), each pool of kind ``pooling``. Modules are named after the layers."""
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    for layer in layers:
        if isinstance(layer, Conv):
            padding = "same" if layer.padding is None else layer.padding
            modules[layer.name] = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel, layer.stride,
                                            padding)
            if width_scaling:
                modules[f"{layer.name}_scale"] = Scale(1 / math.sqrt(layer.out_channels))
            modules[f"{layer.name}_act"] = _activation(activation)
        else:
            modules[layer.name] = _pool(layer, pooling)
    return nn.Sequential(modules)


class Decoder(nn.Module):
    """The DCN mirroring ``layers``; ``forward(z, size)`` needs the encoder's input size to mirror its shapes.

    Its steps (``steps``, in forward order) are the modules of the literal DCN: ``up_<layer>`` upsamplings and
    ``de<conv>`` convs with their scaling and activation; state dicts, weight draws and the theory read them.
    With ``fused`` (the default), a zero-fill upsampling directly followed by a conv runs as the one strided
    transposed convolution it equals (:func:`rdcn.core.operators.zero_upsample_conv`: no multiplication by an
    inserted zero); ``fused = False`` runs every step as its own module, the reference path, and the one forward
    hooks on each step need.
    """

    def __init__(self, layers: Layers, activation: str = "leaky", upsample: str = "zero", last: str = "conv",
                 width_scaling: bool = False, fused: bool = True):
        super().__init__()
        checks.choice("upsample", upsample, UPSAMPLINGS)
        checks.choice("last", last, LAST_LAYERS)
        self.fused = fused
        up = ZeroUpsample if upsample == "zero" else NearestUpsample
        self.layers = tuple(layers)
        self.steps = nn.ModuleDict()
        self.targets: dict[str, int] = {}  # upsampling step -> index into shape_chain
        final = next(i for i, layer in enumerate(layers) if isinstance(layer, Conv))
        for i in reversed(range(len(layers))):
            layer = layers[i]
            if layer.stride > 1:
                key = f"up_{layer.name}"
                self.steps[key] = up(layer.stride)
                self.targets[key] = i
            if not isinstance(layer, Conv):
                continue
            name = f"de{layer.name}"
            if i == final and last == "mean":
                self.steps[name] = ChannelMean()
                continue
            self.steps[name] = nn.Conv2d(layer.out_channels, layer.in_channels, layer.kernel, padding="same")
            if i != final:
                if width_scaling:
                    self.steps[f"{name}_scale"] = Scale(1 / math.sqrt(layer.in_channels))
                self.steps[f"{name}_act"] = _activation(activation)

    def forward(self, z: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        chain = shape_chain(self.layers, tuple(size))
        steps = list(self.steps.items())
        i = 0
        while i < len(steps):
            key, step = steps[i]
            if key not in self.targets:
                z, i = step(z), i + 1
                continue
            target = chain[self.targets[key]]
            following = steps[i + 1][1] if i + 1 < len(steps) else None
            if self.fused and type(step) is ZeroUpsample and isinstance(following, nn.Conv2d):
                z, i = zero_upsample_conv(z, step.scale, target, following), i + 2
            else:
                z, i = step(z, target), i + 1
        return z


def build_decoder(layers: Layers, activation: str = "leaky", upsample: str = "zero", last: str = "conv",
                  width_scaling: bool = False, fused: bool = True) -> Decoder:
    """The DCN of ``layers`` (see :class:`Decoder`)."""
    return Decoder(layers, activation, upsample, last, width_scaling, fused)


class CNNDCN(nn.Module):
    """A CNN encoder followed by its DCN: ``forward(x)`` returns a reconstruction of ``x``'s size."""

    def __init__(self, encoder: nn.Module, decoder: Decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x), x.shape[-2:])


def cnn_dcn(layers: Layers, encoder_activation: str = "relu", decoder_activation: str = "leaky",
            pooling: str = "max", upsample: str = "zero", last: str = "conv", width_scaling: bool = False,
            fused: bool = True) -> CNNDCN:
    """Encoder and mirrored DCN of ``layers`` in one module (weights as torch initialises them: randomise or
    train them next); ``fused`` as in :class:`Decoder`."""
    return CNNDCN(build_encoder(layers, encoder_activation, pooling, width_scaling),
                  build_decoder(layers, decoder_activation, upsample, last, width_scaling, fused))


def feature_table(layers: Layers, size: int | tuple[int, int], names: list[str] | None = None) -> list[dict]:
    """Push a ``size`` input through the encoder of ``layers`` (on the meta device: shapes, no arithmetic of
    ours, no compute) and report channels, shape and dimension at each of ``names`` (default: every block)."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if names is None:
        names = [n for n in layer_names(layers) if n.startswith("conv") and "_" not in n]
    with torch.device("meta"):
        encoder = build_encoder(layers)
        x = torch.zeros(1, layers[0].in_channels, *size)
    rows = [dict(layer="data", channels=x.shape[1], shape=tuple(x.shape[2:]), dimension=x[0].numel())]
    outputs = {}
    for key, module in encoder.named_children():
        x = module(x)
        outputs[key.removesuffix("_act")] = x
    for name in names:
        last = cut(layers, name)[-1].name
        y = outputs[last]
        rows.append(dict(layer=name, channels=y.shape[1], shape=tuple(y.shape[2:]), dimension=y[0].numel()))
    return rows


def truncate(encoder: nn.Sequential, name: str) -> nn.Sequential:
    """The leading modules of an encoder made by :func:`build_encoder`, up to layer ``name`` (a block ``convK``,
    a conv ``convK_i`` or a pool ``poolK``) with its scaling and activation: ConvK features of an existing
    (for instance trained) encoder."""
    keys = [key for key, _ in encoder.named_children()]
    hits = [i for i, key in enumerate(keys) if key == name or (key.startswith("conv") and key.split("_")[0] == name
                                                                and not key.endswith(("_act", "_scale")))]
    if not hits:
        allowed = [k for k in keys if not k.endswith(("_act", "_scale"))]
        raise ValueError(f"layer must be one of {_with_blocks(allowed)}, got {name!r}")
    end = hits[-1]
    while end + 1 < len(keys) and keys[end + 1].startswith(keys[hits[-1]] + "_"):
        end += 1
    return encoder[: end + 1]



def cnn_dcn_table(model: CNNDCN, size: int | tuple[int, int], in_channels: int = 3) -> list[dict]:
    """Every module of a CNN-DCN with the shape it outputs for a ``size`` input: the layer tables of He et al.
    §2.1 (Fig. 1), computed by running the model (on the meta device: shapes only, no compute)."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    rows: list[dict] = []

    def hook(part: str, name: str):
        def record(module, args, output):
            kind = type(module).__name__
            rows.append(dict(part=part, layer=name, module=kind, shape=tuple(output.shape[1:])))
        return record

    meta = _to_meta(model)
    meta.decoder.fused = False  # every step runs as its own module, so each hook sees its output
    handles = [m.register_forward_hook(hook("CNN", n)) for n, m in meta.encoder.named_children()]
    handles += [m.register_forward_hook(hook("DCN", n)) for n, m in meta.decoder.steps.items()]
    try:
        meta(torch.zeros(1, in_channels, *size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def _to_meta(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).to("meta")
