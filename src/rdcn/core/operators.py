"""Small layers the CNN-DCN architectures need beyond torch.nn.

- :class:`ZeroUpsample`: the DCN's inverse of a stride-s layer (He et al. §2.1, after Dosovitskiy & Brox):
  each value goes to the top-left pixel of an s×s block of zeros (the layer the proof of Theorem 5.1 uses).
- :func:`zero_upsample_conv`: that upsampling followed by a conv, computed as the one strided transposed
  convolution it equals (no multiplication by an inserted zero): the DCN's fast path.
- :class:`NearestUpsample`: the same block filled with copies of the value (an option, not the paper's).
- :class:`L2Pool`: ℓ2-norm pooling, the pooling of the random CNN *variant* of He et al. Definition 5.1.
- :class:`ChannelMean`: the variant's last layer, the arithmetic mean over channels (Definition 5.1).
- :class:`Scale`: the variant's 1/√N_l normalisation of a conv layer's maps (Definition 5.1).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ZeroUpsample(nn.Module):
    """Zero-fill ×``scale`` upsampling to an exact target size.

    ``out[..., s*i, s*j] = x[..., i, j]``, every other pixel 0. The target size (the size of the map the
    mirrored encoder layer consumed) is given at call time; rows or columns past the input's reach stay zero and
    those past the target are cut, so the DCN mirrors the encoder's shapes exactly for any input size.
    """

    def __init__(self, scale: int):
        super().__init__()
        self.scale = int(scale)

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        s, (h, w) = self.scale, size
        out = x.new_zeros(*x.shape[:-2], h, w)
        hh, ww = min(x.shape[-2], math.ceil(h / s)), min(x.shape[-1], math.ceil(w / s))
        out[..., : hh * s : s, : ww * s : s] = x[..., :hh, :ww]
        return out

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


def _pads(conv: nn.Conv2d) -> list[tuple[int, int]]:
    """(before, after) zero padding of each spatial axis of ``conv`` (``"same"``: the extra pixel after, as torch)."""
    if conv.padding == "same":
        return [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in conv.kernel_size]
    return [(0, 0)] * 2 if conv.padding == "valid" else [(p, p) for p in conv.padding]


def _transposed(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """A conv weight (out × in/groups × k × k) as the weight of the transposed convolution that applies its
    flipped filters (in × out/groups × k × k, group by group)."""
    flipped = weight.flip(-2, -1)
    return flipped.unflatten(0, (groups, -1)).transpose(1, 2).flatten(0, 1)


def zero_upsample_conv(x: torch.Tensor, scale: int, size: tuple[int, int], conv: nn.Conv2d) -> torch.Tensor:
    """``conv(ZeroUpsample(scale)(x, size))`` computed as one strided transposed convolution (the same linear
    map: no multiplication by an inserted zero).

    A stride-1 conv of zero-fill upsampled maps adds, at each output pixel, the filter taps that land on the
    input's values: that is ``conv_transpose2d`` of ``x`` with stride ``scale`` and the flipped filters (the
    transposed grouped layout for ``groups > 1``). Its output is then cut or zero-extended to the literal path's
    exact size (rows the input does not reach hold the bias alone, as there), and the bias is added once.
    """
    if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.padding_mode != "zeros":
        raise ValueError(f"the fused path needs a stride-1, dilation-1, zero-padded conv after the upsampling, "
                         f"got {conv}")
    rows, cols = (min(n, math.ceil(m / scale)) for n, m in zip(x.shape[-2:], size))
    x = x[..., :rows, :cols]
    # the literal conv's output pixel p reads the upsampled pixels p − before … p − before + k − 1, so the
    # transposed convolution's full output (no padding) holds it at p + crop, crop = k − 1 − before
    crop, out, natural = [], [], []
    for n, m, k, (before, after) in zip((rows, cols), size, conv.kernel_size, _pads(conv)):
        crop.append(k - 1 - before)
        out.append(m + before + after - k + 1)
        natural.append((n - 1) * scale + k - 2 * crop[-1])
    extra = [o - n for o, n in zip(out, natural)]
    weight = _transposed(conv.weight, conv.groups)
    if min(crop) >= 0 and all(0 <= e < scale for e in extra):  # one call, bias included
        return F.conv_transpose2d(x, weight, conv.bias, scale, crop, extra, conv.groups)
    full = F.conv_transpose2d(x, weight, None, scale, groups=conv.groups)
    y = F.pad(full, (-crop[1], crop[1] + out[1] - full.shape[-1], -crop[0], crop[0] + out[0] - full.shape[-2]))
    return y if conv.bias is None else y + conv.bias[:, None, None]


class NearestUpsample(ZeroUpsample):
    """Nearest-neighbour ×``scale`` upsampling (each value copied over its s×s block), cut to the target size."""

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        s, (h, w) = self.scale, size
        up = x.repeat_interleave(s, dim=-2).repeat_interleave(s, dim=-1)[..., :h, :w]
        return F.pad(up, (0, w - up.shape[-1], 0, h - up.shape[-2]))


class L2Pool(nn.Module):
    """ℓ2-norm pooling: each output is the Euclidean norm of its window (partial windows at a ceil-mode edge
    sum only the pixels they cover)."""

    def __init__(self, kernel: int, stride: int, ceil_mode: bool = False):
        super().__init__()
        self.kernel, self.stride, self.ceil_mode = kernel, stride, ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.avg_pool2d(x * x, self.kernel, self.stride, ceil_mode=self.ceil_mode, divisor_override=1)
        return sums.clamp_min(0).sqrt()

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}, ceil_mode={self.ceil_mode}"


class ChannelMean(nn.Module):
    """The arithmetic mean over channels, keeping a channel axis of size 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-3, keepdim=True)


class Scale(nn.Module):
    """Multiply by a constant (the variant's 1/√N_l)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor:.4g}"
