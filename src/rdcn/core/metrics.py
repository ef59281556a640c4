"""Reconstruction quality as in He et al. §4: Pearson r and SSIM on grayscale images.

Both images go to grayscale (scikit-image's ``rgb2gray``: colours are not compared, geometry is); the output is
min-maxed to [0, 1], and so is the target (our choice, stated in the book: a random DCN's output has an arbitrary
scale and offset, and SSIM's luminance term is not invariant to them, so both sides get the same map); SSIM is
Wang et al.'s (2004), whom the paper cites: an 11×11 Gaussian window of σ = 1.5, K₁ = 0.01, K₂ = 0.03, population
covariances (scikit-image's ``structural_similarity`` with ``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1``, :data:`SSIM_OPTIONS`); where it is negative the output's luminosity is
inverted (1 − y) and SSIM taken again, so the value lies in [0, 1] — the paper's rule. Functions take batches
(N×C×H×W tensors or arrays, C = 1 or 3) and return one value per image.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import stats
from skimage.color import rgb2gray
from skimage.metrics import structural_similarity

#: Wang et al. (2004)'s SSIM, as scikit-image documents how to match it.
SSIM_OPTIONS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)


def grayscale(images) -> np.ndarray:
    """N×C×H×W (C = 1 or 3) tensor/array → N×H×W float64 grayscale array."""
    array = images.detach().cpu().double().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise ValueError(f"images must be N×C×H×W with C = 1 or 3, got shape {array.shape}")
    if array.shape[1] == 1:
        return array[:, 0]
    return rgb2gray(np.moveaxis(array, 1, -1))


def minmax(images: np.ndarray) -> np.ndarray:
    """Each image of an N×H×W array scaled to [0, 1] (a constant image becomes 0)."""
    lo = images.min(axis=(1, 2), keepdims=True)
    span = images.max(axis=(1, 2), keepdims=True) - lo
    return np.where(span > 0, (images - lo) / np.where(span > 0, span, 1), 0.0)


def pearson_r(output, target) -> np.ndarray:
    """Pearson correlation between each grayscale output and its target (signed, no inversion)."""
    y, x = grayscale(output), grayscale(target)
    return np.asarray(stats.pearsonr(y.reshape(len(y), -1), x.reshape(len(x), -1), axis=1).statistic)


def quality(output, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SSIM, r, inverted) per image, by the paper's rule: where SSIM between the min-maxed grayscale output and
    target is negative, the output's luminosity is inverted; SSIM and r are then both of the (possibly inverted)
    output."""
    y, x = minmax(grayscale(output)), minmax(grayscale(target))
    if y.shape != x.shape:
        raise ValueError(f"output and target differ in shape: {y.shape} vs {x.shape}")
    ssim, r, inverted = np.empty(len(y)), np.empty(len(y)), np.zeros(len(y), bool)
    for i, (yi, xi) in enumerate(zip(y, x)):
        s = structural_similarity(yi, xi, **SSIM_OPTIONS)
        if s < 0:
            yi, inverted[i] = 1.0 - yi, True
            s = structural_similarity(yi, xi, **SSIM_OPTIONS)
        ssim[i] = s
        r[i] = stats.pearsonr(yi.ravel(), xi.ravel()).statistic if yi.std() > 0 and xi.std() > 0 else 0.0
    return ssim, r, inverted


def ssim(output, target) -> np.ndarray:
    """SSIM per image by the paper's rule (see :func:`quality`)."""
    return quality(output, target)[0]
