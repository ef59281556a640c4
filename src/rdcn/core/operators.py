"""Small layers the CNN-DCN architectures need beyond torch.nn.

- :class:`ZeroUpsample`: the DCN's inverse of a stride-s layer (He et al. §2.1, after Dosovitskiy & Brox):
  each value goes to the top-left pixel of an s×s block of zeros (the layer the proof of Theorem 5.1 uses).
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
