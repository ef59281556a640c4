"""Positions kept, colours lost (Shu et al. 2017, abstract; He et al. §4): a colour measure beside the paper's
geometric one.

He et al. §4 measure a random CNN-DCN's output against its input on grayscale images (Pearson r and SSIM, the
output's luminosity inverted where SSIM is negative), because "the color information is discarded for random
reconstruction". To measure that colour loss rather than assume it, we (our measure; the papers give none) compare
the *colour* of the two images the same way:

- :func:`chroma` — each colour channel, centred, minus its least-squares fit on the image's centred gray level
  (scikit-image's ``rgb2gray``): the part of the colour that brightness does not predict, so that an output which
  is its input's geometry in some random tint has no chroma left to match;
- :func:`colour_r` — the correlation (cosine of the centred vectors, all three channels together) between the
  output's and the input's chroma, oriented like the geometry: the paper reads its grayscale r by magnitude ("an
  extreme r, either positive or negative, indicates a high correlation with the geometric information"), so an
  output whose grayscale r is negative is taken inverted, luminosity and colours together.

A network that kept the colours would give a colour r as high as its grayscale |r|, network after network; one that
loses them gives colour r's that average to zero over networks.
"""
from __future__ import annotations

import numpy as np
import torch

from ..core import metrics


def _array(images) -> np.ndarray:
    array = images.detach().cpu().double().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if array.ndim != 4 or array.shape[1] != 3:
        raise ValueError(f"images must be N×3×H×W colour images, got shape {array.shape}")
    return array


#: Chroma below this fraction of an image's centred colour (in norm) is rounding, not colour (float32 outputs).
NO_CHROMA = 1e-4


def _centred_colour_and_chroma(images) -> tuple[np.ndarray, np.ndarray]:
    array = _array(images)
    gray = metrics.grayscale(array)[:, None]
    gray = gray - gray.mean(axis=(2, 3), keepdims=True)
    colour = array - array.mean(axis=(2, 3), keepdims=True)
    energy = (gray * gray).sum(axis=(2, 3), keepdims=True)
    slope = (colour * gray).sum(axis=(2, 3), keepdims=True) / np.where(energy > 0, energy, 1.0)
    return colour, colour - slope * gray


def chroma(images) -> np.ndarray:
    """N×3×H×W: each centred colour channel minus its least-squares fit on the centred gray level of its image."""
    return _centred_colour_and_chroma(images)[1]


def _flat_chroma(images) -> np.ndarray:
    """N × (3·H·W) chroma, rows of images without chroma (below :data:`NO_CHROMA`) set to zero."""
    colour, c = (a.reshape(len(a), -1) for a in _centred_colour_and_chroma(images))
    none = np.linalg.norm(c, axis=1) <= NO_CHROMA * np.linalg.norm(colour, axis=1)
    return np.where(none[:, None], 0.0, c)


def colour_r(output, target, inverted=None) -> np.ndarray:
    """Per image, the correlation of the output's and the target's :func:`chroma` (sign flipped where
    ``inverted``: where the output is taken inverted); NaN where the output has a single channel (no colour), 0 where
    either image has no chroma (below :data:`NO_CHROMA` of its colour)."""
    n = len(output)
    if output.shape[1] == 1:
        return np.full(n, np.nan)
    a, b = _flat_chroma(output), _flat_chroma(target)
    if a.shape != b.shape:
        raise ValueError(f"output and target differ in shape: {tuple(output.shape)} vs {tuple(target.shape)}")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    r = np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)
    if inverted is not None:
        r = np.where(np.asarray(inverted, bool), -r, r)
    return r
