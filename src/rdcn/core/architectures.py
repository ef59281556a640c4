"""CNN encoders (VGG16, AlexNet) cut at any layer, and the mirrored DCN (He et al. §2.1, Table 1; SPEC §1).

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
  map and the output has the input's size (the paper's final Crop, done stage by stage).

How torchvision's AlexNet differs from Caffe's (the paper's): 64/192/384/256/256 channels instead of
96/256/384/384/256, conv1 padded by 2, no local response normalisation and no grouped convolutions.
"""
from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn

from .operators import ChannelMean, L2Pool, NearestUpsample, Scale, ZeroUpsample

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


Layers = tuple  # tuple[Conv | Pool, ...]

_VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def _positive(name: str, value, kind=(int, float)):
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def architecture(name: str = "vgg16", width: float = 1.0, kernel_size: int = 3, in_channels: int = 3) -> Layers:
    """The layer specs of ``name`` (one of :data:`ARCHITECTURES`), every width multiplied by ``width``.

    ``kernel_size`` sets every VGG conv's kernel (3 is VGG16's own; AlexNet keeps its kernels).
    """
    if name not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {list(ARCHITECTURES)}, got {name!r}")
    _positive("width", width)
    _positive("kernel_size", kernel_size, int)
    _positive("in_channels", in_channels, int)
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
    _positive("width", width, int)
    out, c_in = [], None
    for layer in layers:
        if isinstance(layer, Conv):
            layer = replace(layer, in_channels=layer.in_channels if c_in is None else c_in, out_channels=width)
            c_in = width
        out.append(layer)
    return tuple(out)


def simplified(layers: Layers, name: str) -> Layers:
    """The paper's §4.1 simplified net for ``name``: the input straight into one conv giving ConvK's width and
    (for VGG's 227×227) exactly ConvK's shape: stride = the product of the cut's strides, kernel and padding of
    the first conv."""
    part = cut(layers, name)
    first, last = convs(part)[0], convs(part)[-1]
    stride = math.prod(layer.stride for layer in part)
    padding = first.kernel // 2 if first.padding is None else first.padding
    return (Conv(f"{name}_simplified", first.in_channels, last.out_channels, first.kernel, stride, padding),)


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
    if kind not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {kind!r}")
    return nn.ReLU() if kind == "relu" else nn.LeakyReLU(LEAKY_SLOPE)


def _pool(layer: Pool, kind: str) -> nn.Module:
    if kind not in POOLINGS:
        raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {kind!r}")
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
    """The DCN mirroring ``layers``; ``forward(z, size)`` needs the encoder's input size to mirror its shapes."""

    def __init__(self, layers: Layers, activation: str = "leaky", upsample: str = "zero", last: str = "conv",
                 width_scaling: bool = False):
        super().__init__()
        if upsample not in UPSAMPLINGS:
            raise ValueError(f"upsample must be one of {list(UPSAMPLINGS)}, got {upsample!r}")
        if last not in LAST_LAYERS:
            raise ValueError(f"last must be one of {list(LAST_LAYERS)}, got {last!r}")
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
        for key, step in self.steps.items():
            z = step(z, chain[self.targets[key]]) if key in self.targets else step(z)
        return z


def build_decoder(layers: Layers, activation: str = "leaky", upsample: str = "zero", last: str = "conv",
                  width_scaling: bool = False) -> Decoder:
    """The DCN of ``layers`` (see :class:`Decoder`)."""
    return Decoder(layers, activation, upsample, last, width_scaling)


class CNNDCN(nn.Module):
    """A CNN encoder followed by its DCN: ``forward(x)`` returns a reconstruction of ``x``'s size."""

    def __init__(self, encoder: nn.Module, decoder: Decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x), x.shape[-2:])


def cnn_dcn(layers: Layers, encoder_activation: str = "relu", decoder_activation: str = "leaky",
            pooling: str = "max", upsample: str = "zero", last: str = "conv", width_scaling: bool = False) -> CNNDCN:
    """Encoder and mirrored DCN of ``layers`` in one module (weights as torch initialises them: randomise or
    train them next)."""
    return CNNDCN(build_encoder(layers, encoder_activation, pooling, width_scaling),
                  build_decoder(layers, decoder_activation, upsample, last, width_scaling))


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


_IMAGENET_WEIGHTS = {"vgg16": "VGG16_Weights", "alexnet": "AlexNet_Weights"}


def load_imagenet_weights(encoder: nn.Sequential, arch: str) -> nn.Sequential:
    """Copy torchvision's ImageNet weights (``IMAGENET1K_V1``) into the convs of ``encoder`` (full width, kernel 3).

    Uses torchvision's weights API, from the local torch hub cache only: where the file is not there this
    raises FileNotFoundError saying where it was looked for and how to fetch it, without touching the network.
    """
    import torchvision.models as tvm

    if arch not in _IMAGENET_WEIGHTS:
        raise ValueError(f"arch must be one of {list(_IMAGENET_WEIGHTS)}, got {arch!r}")
    weights = getattr(tvm, _IMAGENET_WEIGHTS[arch]).IMAGENET1K_V1
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name
    if not path.is_file():
        raise FileNotFoundError(
            f"torchvision's ImageNet weights for {arch} are not on this machine (looked for {path}). On a machine "
            f"with network access run: python -c \"import torchvision.models as m; m.{arch}(weights='IMAGENET1K_V1')\""
        )
    state = weights.get_state_dict(progress=False)
    theirs = [(k.removesuffix(".weight"), v) for k, v in state.items() if k.startswith("features.") and v.ndim == 4]
    ours = [m for m in encoder.modules() if isinstance(m, nn.Conv2d)]
    for module, (key, weight) in zip(ours, theirs):
        if module.weight.shape != weight.shape:
            raise ValueError(f"ImageNet weights need the full-width {arch} with its own kernels: {key} has shape "
                             f"{tuple(weight.shape)}, the encoder's conv {tuple(module.weight.shape)}")
        with torch.no_grad():
            module.weight.copy_(weight)
            module.bias.copy_(state[f"{key}.bias"])
    return encoder


def truncate(encoder: nn.Sequential, name: str) -> nn.Sequential:
    """The leading modules of an encoder made by :func:`build_encoder`, up to layer ``name`` (a block ``convK``,
    a conv ``convK_i`` or a pool ``poolK``) with its scaling and activation: ConvK features of an existing
    (for instance trained) encoder."""
    keys = list(encoder._modules)
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
    handles = [m.register_forward_hook(hook("CNN", n)) for n, m in meta.encoder.named_children()]
    handles += [m.register_forward_hook(hook("DCN", n)) for n, m in meta.decoder.steps.items()]
    try:
        meta(torch.zeros(1, in_channels, *size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def _to_meta(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).to("meta")
