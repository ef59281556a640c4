"""Reconstruction quality as in He et al. §4: Pearson r and SSIM on grayscale images, scored in batches by torch.

Both images go to grayscale (scikit-image's ``rgb2gray`` weights: colours are not compared, geometry is); the
output is min-maxed to [0, 1], and so is the target (our choice, stated in the book: a random DCN's output has an
arbitrary scale and offset, and SSIM's luminance term is not invariant to them, so both sides get the same map);
SSIM is Wang et al.'s (2004), whom the paper cites: an 11×11 Gaussian window of σ = 1.5, K₁ = 0.01, K₂ = 0.03,
population covariances, averaged over the pixels whose window lies inside the image. Where it is negative the
output's luminosity is inverted (1 − y) and SSIM taken again, so the value lies in [0, 1] — the paper's rule.

:func:`structural_similarity` computes that SSIM for a whole batch on any device, in float64; it equals
scikit-image's ``structural_similarity(…, **SSIM_OPTIONS)`` (the reference the tests hold it to) up to summation
order. Its Gaussian filtering is a product with a banded matrix, done block by block so the zeros off the band
are mostly skipped. Functions take batches (N×C×H×W tensors or arrays, C = 1 or 3) and return one value per image.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from skimage.color import rgb2gray

#: Wang et al. (2004)'s SSIM, as scikit-image documents how to match it (its ``structural_similarity`` options).
SSIM_OPTIONS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
#: Wang et al.'s constants (scikit-image's defaults) and the Gaussian's truncation scikit-image uses with
#: ``gaussian_weights=True`` (3.5 σ: an 11-tap window at σ = 1.5, as in the paper).
K1, K2, TRUNCATE = 0.01, 0.03, 3.5
#: scikit-image's ``rgb2gray`` weights (ITU-R BT.709), read from the function itself.
GRAY_WEIGHTS = tuple(float(w) for w in rgb2gray(np.eye(3)[None])[0])
#: Output rows per block of the banded filtering product, by device type (a block of b rows multiplies b + 10
#: input rows: larger blocks waste more products on the band's zeros, smaller ones make more, smaller calls).
BLOCK_ROWS = {"cpu": 16, "cuda": 256}
#: Pixels per chunk of images (at least one image), so a chunk's float64 work maps stay near the CPU's caches;
#: a GPU takes far more at once. The CPU's values were chosen by timing on a 2-core machine; the GPU's are untimed
#: (no GPU was at hand), a starting point.
CHUNK_PIXELS = {"cpu": 2**16, "cuda": 2**24}


def _as_tensor(images) -> torch.Tensor:
    return images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images, float))


def luminance(images) -> torch.Tensor:
    """N×C×H×W (C = 1 or 3) tensor/array → N×H×W float64 grayscale tensor, on the input's device."""
    images = _as_tensor(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be N×C×H×W with C = 1 or 3, got shape {tuple(images.shape)}")
    images = images.detach().double()
    if images.shape[1] == 1:
        return images[:, 0]
    return torch.einsum("nchw,c->nhw", images, images.new_tensor(GRAY_WEIGHTS))


def grayscale(images) -> np.ndarray:
    """N×C×H×W (C = 1 or 3) tensor/array → N×H×W float64 grayscale array (see :func:`luminance`)."""
    return luminance(images).cpu().numpy()


def minmax(images):
    """Each image (the leading axis) scaled to [0, 1] over all its other axes (a constant image becomes 0): the
    comparison's min-max, and the display's. A tensor gives a tensor (same device), an array a float64 array."""
    array = not isinstance(images, torch.Tensor)
    images = _as_tensor(images)
    flat = images.flatten(1)
    low = flat.min(1, keepdim=True).values
    span = flat.max(1, keepdim=True).values - low
    out = torch.where(span > 0, (flat - low) / torch.where(span > 0, span, 1), 0).view_as(images)
    return out.numpy() if array else out


def gaussian_window(device: str | torch.device = "cpu") -> torch.Tensor:
    """scipy's (and so scikit-image's) sampled Gaussian of σ = ``SSIM_OPTIONS["sigma"]``, radius ⌊3.5 σ + ½⌋,
    normalised to sum 1: the 1-D factor of Wang et al.'s 11×11 window (float64)."""
    sigma = SSIM_OPTIONS["sigma"]
    radius = int(TRUNCATE * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64, device=device)
    window = torch.exp(-0.5 / sigma**2 * x * x)
    return window / window.sum()


def _band(window: torch.Tensor, rows: int) -> torch.Tensor:
    """rows × (rows + taps − 1): row i holds ``window`` at columns i … i + taps − 1 (a valid correlation)."""
    taps, device = len(window), window.device
    offset = torch.arange(rows + taps - 1, device=device)[None] - torch.arange(rows, device=device)[:, None]
    inside = (offset >= 0) & (offset < taps)
    return torch.where(inside, window[offset.clamp(0, taps - 1)], 0)


def _filter_rows(maps: torch.Tensor, band: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The valid correlation of every column of ``maps`` (rows × columns) with the window of ``band``, into
    ``out`` ((rows − taps + 1) × columns)."""
    taps = band.shape[1] - band.shape[0] + 1
    rows, block = maps.shape[0] - taps + 1, band.shape[0]
    for start in range(0, rows, block):
        n = min(block, rows - start)
        torch.mm(band[:n, : n + taps - 1], maps[start : start + n + taps - 1], out=out[start : start + n])
    return out


def structural_similarity(images, references) -> torch.Tensor:
    """Wang et al.'s SSIM of each pair of N×H×W grayscale images in [0, 1] (data range 1), computed in float64
    on the images' device: equal to scikit-image's ``structural_similarity(image, reference, **SSIM_OPTIONS)``
    up to rounding. Both sides must be at least the window's 11 pixels wide and high."""
    x = _as_tensor(images).double()
    y = _as_tensor(references).double().to(x.device)
    window = gaussian_window(x.device)
    taps = len(window)
    if x.ndim != 3 or x.shape != y.shape:
        raise ValueError(f"images and references must be N×H×W of one shape, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if min(x.shape[1:]) < taps:
        raise ValueError(f"images must be at least {taps}×{taps} pixels (the SSIM window), got {tuple(x.shape[1:])}")
    n, height, width = x.shape
    device = x.device.type if x.device.type in BLOCK_ROWS else "cpu"
    band = _band(window, min(BLOCK_ROWS[device], max(height, width) - taps + 1))
    chunk = max(1, min(n, CHUNK_PIXELS[device] // (height * width)))
    # two work buffers, reused by every chunk and every stage (see _ssim_chunk)
    buffers = x.new_empty(4 * chunk * height * width), x.new_empty(4 * chunk * (height - taps + 1) * width)
    return torch.cat([_ssim_chunk(x[i : i + chunk], y[i : i + chunk], band, *buffers) for i in range(0, n, chunk)])


def _ssim_chunk(x: torch.Tensor, y: torch.Tensor, band: torch.Tensor, first: torch.Tensor,
                second: torch.Tensor) -> torch.Tensor:
    n, height, width = x.shape
    taps = band.shape[1] - band.shape[0] + 1
    rows, cols = height - taps + 1, width - taps + 1

    def buffer(storage: torch.Tensor, *shape: int) -> torch.Tensor:
        return storage[: math.prod(shape)].view(shape)

    # the four maps the window averages, x, y, x² + y², xy, filtered down the rows then across the columns
    maps = buffer(first, height, 4, n, width)
    xt, yt = x.transpose(0, 1), y.transpose(0, 1)
    maps[:, 0], maps[:, 1] = xt, yt
    torch.mul(xt, xt, out=maps[:, 2]).addcmul_(yt, yt)
    torch.mul(xt, yt, out=maps[:, 3])
    down = _filter_rows(maps.view(height, -1), band, buffer(second, rows, 4 * n * width))
    across = buffer(first, width, 4, n, rows).copy_(down.view(rows, 4, n, width).permute(3, 1, 2, 0))
    means = _filter_rows(across.view(width, -1), band, buffer(second, cols, 4 * n * rows)).view(cols, 4, n, rows)
    mean_x, mean_y, second_moment, cross = means.unbind(1)
    c1, c2 = (K1 * SSIM_OPTIONS["data_range"]) ** 2, (K2 * SSIM_OPTIONS["data_range"]) ** 2
    # SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)), population (co)variances, in place
    product = torch.mul(mean_x, mean_y, out=buffer(first, cols, n, rows))
    squares = mean_x.mul_(mean_x).addcmul_(mean_y, mean_y)
    cross.sub_(product).mul_(2).add_(c2)
    second_moment.sub_(squares).add_(c2)
    numerator = product.mul_(2).add_(c1).mul_(cross)
    denominator = squares.add_(c1).mul_(second_moment)
    return numerator.div_(denominator).mean((0, 2))


def _pearson(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Pearson r of each pair of N×H×W images (0 where either is constant)."""
    yc, xc = y.flatten(1), x.flatten(1)
    yc, xc = yc - yc.mean(1, keepdim=True), xc - xc.mean(1, keepdim=True)
    norms = (yc * yc).sum(1) * (xc * xc).sum(1)
    return torch.where(norms > 0, (yc * xc).sum(1) / norms.sqrt().clamp_min(torch.finfo(norms.dtype).tiny), 0)


def pearson_r(output, target) -> np.ndarray:
    """Pearson correlation between each grayscale output and its target (signed, no inversion)."""
    y = luminance(output)
    return _pearson(y, luminance(target).to(y.device)).cpu().numpy()


def quality(output, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SSIM, r, inverted) per image, by the paper's rule: where SSIM between the min-maxed grayscale output and
    target is negative, the output's luminosity is inverted; SSIM and r are then both of the (possibly inverted)
    output. Computed on the output's device."""
    y = minmax(luminance(output))
    x = minmax(luminance(target).to(y.device))
    if y.shape != x.shape:
        raise ValueError(f"output and target differ in shape: {tuple(y.shape)} vs {tuple(x.shape)}")
    ssim = structural_similarity(y, x)
    inverted = ssim < 0
    y = torch.where(inverted[:, None, None], 1 - y, y)
    if inverted.any():
        ssim[inverted] = structural_similarity(y[inverted], x[inverted])
    return ssim.cpu().numpy(), _pearson(y, x).cpu().numpy(), inverted.cpu().numpy()


def ssim(output, target) -> np.ndarray:
    """SSIM per image by the paper's rule (see :func:`quality`)."""
    return quality(output, target)[0]
