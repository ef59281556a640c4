"""Matplotlib helpers shared by the chapters (Agg backend): image grids and mean ± std curves.

Each returns the figure, so a notebook cell is one call; the caption lives in the notebook's MyST figure.
Inside a Jupyter kernel, importing this module also registers the PNG formatter for figures (which the Agg
backend does not), so ``glue("key", fig)`` stores an image the book can show.
"""
from __future__ import annotations

import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from . import metrics  # noqa: E402


def _register_png_formatter() -> None:
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")


_register_png_formatter()


def displayable(image) -> np.ndarray:
    """A C×H×W (C = 1 or 3) tensor/array, or H×W, as an H×W(×3) array in [0, 1] (outside values clipped)."""
    array = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, float)
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else np.moveaxis(array, 0, -1)
    return np.clip(array, 0, 1)


def stretch(image) -> np.ndarray:
    """An image min-maxed to [0, 1] for display (a random DCN's output has an arbitrary scale and offset): the
    comparison's own min-max, :func:`rdcn.core.metrics.minmax`, on a batch of one."""
    array = image.detach().cpu().double().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, float)
    return metrics.minmax(array[None])[0]


def image_grid(rows, titles=None, row_labels=None, size: float = 1.9, cmap: str = "gray"):
    """A grid of images: ``rows`` is a list of rows, each a list of images (see :func:`displayable`);
    ``titles`` one per column (or a list of lists, one per image), ``row_labels`` one per row."""
    nrows, ncols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(ncols):
            ax = axes[i][j]
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if j >= len(row) or row[j] is None:
                continue
            ax.imshow(displayable(row[j]), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            title = titles[i][j] if titles and isinstance(titles[0], (list, tuple)) else (
                titles[j] if titles and i == 0 else None)
            if title:
                ax.set_title(title, fontsize=9)
        if row_labels:
            axes[i][0].set_ylabel(row_labels[i], fontsize=9)
    fig.tight_layout()
    return fig


def mean_std_curves(x, series: dict, xlabel: str, ylabel: str, ax=None, logx: bool = False, logy: bool = False,
                    title: str | None = None):
    """One line per ``series`` entry (label → (mean, std) or label → values) with a ±std band."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.4))
    for label, values in series.items():
        if isinstance(values, tuple) and len(values) == 2:
            mean, std = (np.asarray(v, float) for v in values)
        else:
            mean, std = np.asarray(values, float), None
        xs = np.asarray(x[label] if isinstance(x, dict) else x, float)
        (line,) = ax.plot(xs, mean, marker="o", markersize=3, label=label)
        if std is not None:
            ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def markdown_table(rows: list[dict], columns: list[str] | None = None):
    """Rows of dicts as a Markdown table (an IPython display object the book renders as a table)."""
    from IPython.display import Markdown

    columns = columns or list(rows[0])
    cell = lambda v: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return Markdown("\n".join(lines))


#: The colour of each verdict state in a scale figure.
VERDICT_COLOURS = {"holds": "C2", "does not hold": "C3", "inconclusive": "C1"}


def scale_figure(knob: str, values, verdicts, statistic: str, claimed: tuple[float, float] | None = None,
                 logx: bool = False, tick_labels=None):
    """A claim's statistic along its scale knob, where and whether a paper's result appears: the statistic of each
    verdict (anything with ``state``, ``statistic`` and ``interval``: :class:`rdcn.claims.rules.Verdict`, decided by
    the claim's rule at each value) with its 95 % interval, coloured by its state, against the knob ``values``
    (labelled ``knob``; ticks ``tick_labels`` if given), the ``claimed`` range (low, high; ±inf for one-sided)
    shaded."""
    values, verdicts = list(values), list(verdicts)
    if len(values) != len(verdicts) or not values:
        raise ValueError(f"one verdict per knob value, got {len(values)} values and {len(verdicts)} verdicts")
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    seen = set()
    for x, verdict in zip(values, verdicts):
        if verdict.statistic is None or not math.isfinite(verdict.statistic):
            continue
        low, high = verdict.interval if verdict.interval is not None else (verdict.statistic, verdict.statistic)
        label = None if verdict.state in seen else verdict.state
        seen.add(verdict.state)
        ax.errorbar([x], [verdict.statistic], yerr=[[verdict.statistic - low], [high - verdict.statistic]], fmt="o",
                    capsize=4, color=VERDICT_COLOURS.get(verdict.state, "k"), label=label)
    if claimed is not None:
        edges = [edge for edge in claimed if math.isfinite(edge)]
        bottom, top = ax.get_ylim()
        span = top - bottom
        bottom, top = min([bottom, *[e - 0.05 * span for e in edges]]), max([top, *[e + 0.05 * span for e in edges]])
        ax.axhspan(claimed[0] if math.isfinite(claimed[0]) else bottom, claimed[1] if math.isfinite(claimed[1])
                   else top, color="C2", alpha=0.1, label="claimed")
        for edge in edges:
            ax.axhline(edge, color="C2", lw=1, linestyle="--")
        ax.set_ylim(bottom, top)
    if logx:
        ax.set_xscale("log")
    if tick_labels is not None:
        ax.set_xticks(values, tick_labels)
    ax.set_xlabel(knob)
    ax.set_ylabel(statistic)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def not_measured(reason: str):
    """A small figure that says, in words, why a figure the page names is not measured at this run's profile (so the
    page keeps its layout at every profile without drawing anything that was not measured)."""
    fig, ax = plt.subplots(figsize=(5.2, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, f"Not measured at this profile: {reason}", ha="center", va="center", wrap=True, fontsize=9)
    return fig
