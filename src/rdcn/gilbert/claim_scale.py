"""A claim's statistic along its scale knob: the figure that shows where, and whether, a paper's result appears.

:func:`scale_figure` takes the verdicts of one claim's rule (:mod:`rdcn.claims.rules`) decided at each value of
the knob — anything with ``state``, ``statistic`` and ``interval`` — and draws the statistic with its 95 % interval
against the knob, each point coloured by its state, with the range the claim asks for shaded.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt

COLOURS = {"holds": "C2", "does not hold": "C3", "inconclusive": "C1"}


def scale_figure(knob: str, values, verdicts, statistic: str, claimed: tuple[float, float] | None = None,
                 logx: bool = False, tick_labels=None):
    """The statistic of each verdict (with its interval) against the knob ``values`` (labelled ``knob``; ticks
    ``tick_labels`` if given), the ``claimed`` range (low, high; ±inf for one-sided) shaded."""
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
                    capsize=4, color=COLOURS.get(verdict.state, "k"), label=label)
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
