"""The session a chapter notebook opens in its first cell: its run, its sizes, its data check, its results and its
glue, in one object, so that a notebook holds prose, derivations and one call per figure.

``ch = open_chapter("theory", profile, device, data_dir, seed, sizes)`` validates the parameters (before any
expensive work), resolves the chapter's sizes (the profile's, with the run's overrides), checks the data folder
the chapter reads at this profile, and opens the chapter's results. Then:

- ``ch.glue(name=value, …)`` glues many values at once (numpy scalars as Python numbers, for ``{glue:text}``);
- ``ch.figure("fig-name", fig)`` glues a figure and closes it; ``ch.table("name", rows)`` a Markdown table;
- ``ch.record(key, value)`` stores a number (or array, table) in the chapter's results;
- ``ch.claim("claim_id", **measured)`` decides a registered claim (:mod:`rdcn.claims`) by its rule on the measured
  numbers, stores it and glues ``verdict-<id>`` (its state and the statistic), ``state-<id>`` (its state) and
  ``design-<id>`` (whether this run's profile is one the claim is designed for), so
  that every sentence stating an outcome is glued from the verdict;
- ``ch.save()`` writes ``results/<run>/<chapter>.json``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import claims as registry
from .core import data, profiles
from .core.results import ChapterRun
from .core.runs import Run


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "ndim") and value.ndim == 0:  # 0-d tensors and arrays
        return value.item()
    return value


class Chapter:
    """One execution of one chapter (see the module's note). ``S`` holds its sizes, ``run`` its :class:`Run`."""

    def __init__(self, name: str, run: Run):
        import torch

        self.name, self.run = profiles.check_chapter(name), run
        self.profile, self.device, self.seed, self.data_dir = run.profile, run.device, run.seed, run.data_dir
        self.S = profiles.sizes(name, run.profile, **run.overrides(name))
        profiles.check_device(run.device)
        needs = profiles.data_needs(name, run.profile)
        self.data_used = data.check_layout(run.data_dir, needs, name, run.profile)
        torch.set_flush_denormal(True)  # tiny random features must not fall into slow denormal arithmetic
        self.results = ChapterRun(name, run, data_used=self.data_used)
        self.glue(profile=run.profile, run_name=run.name, seed=run.seed, device=run.device,
                  rerun_command=self.rerun_command())
        self.markdown("rerun-box", self.rerun_box())

    def glue(self, **values: Any) -> None:
        """Glue every value under its name (not displayed here; ``{glue:text}`` shows it in the prose)."""
        from myst_nb import glue

        for key, value in values.items():
            glue(key, _plain(value), display=False)

    def figure(self, name: str, fig) -> None:
        """Glue ``fig`` under ``name`` (for a ``{glue:figure}`` directive) and close it."""
        import matplotlib.pyplot as plt
        from myst_nb import glue

        glue(name, fig, display=False)
        plt.close(fig)

    def markdown(self, name: str, text: str) -> None:
        """Glue MyST Markdown ``text`` under ``name`` (shown with a ``{glue:md}`` directive, ``:format: myst``)."""
        from IPython.display import Markdown
        from myst_nb import glue

        glue(name, Markdown(text), display=False)

    def table(self, name: str, rows: list[dict], columns: list[str] | None = None) -> None:
        """Glue ``rows`` (dicts) as a Markdown table under ``name``."""
        from myst_nb import glue

        from .core.figures import markdown_table

        glue(name, markdown_table(rows, columns), display=False)

    def record(self, key: str, value: Any) -> Any:
        """Store a measured number (or array, table) in the chapter's results; returns ``value``."""
        return self.results.record(key, value)

    def claim(self, claim_id: str, **measured: Any) -> registry.Verdict:
        """Decide the registered claim ``claim_id`` on ``measured`` (the inputs its rule names, plus any context
        worth storing), record it, and glue ``verdict-<id>``, ``state-<id>`` and ``design-<id>`` (whether the claim is
        designed to show at this run's profile, in words). Returns the verdict."""
        claim = registry.get(claim_id)
        if claim.chapter != self.name:
            raise ValueError(f"claim {claim_id!r} belongs to chapter {claim.chapter!r}, not {self.name!r}")
        verdict = claim.decide(measured)
        self.results.claim(claim, measured, verdict)
        designed = (f"designed to show at this run's {self.run.profile} profile" if self.run.profile in
                    claim.designed_for else f"designed to show at the {' and '.join(claim.designed_for)} "
                    f"profile{'s' * (len(claim.designed_for) > 1)}, not at this run's {self.run.profile}")
        self.glue(**{f"state-{claim_id}": verdict.state, f"verdict-{claim_id}": f"{verdict.state} "
                     f"({verdict.summary})", f"design-{claim_id}": designed})
        return verdict

    def rerun_command(self) -> str:
        """The exact command that reruns this chapter alone at this run's parameters."""
        number = {c: f"{i:02d}" for i, c in enumerate(profiles.chapters(), start=1)}[self.name]
        args = [f"PROFILE={self.run.profile}"]
        if self.run.device != "cpu":
            args.append(f"DEVICE={self.run.device}")
        if self.run.seed:
            args.append(f"SEED={self.run.seed}")
        if self.run.data_dir:
            args.append(f"DATA_DIR={self.run.data_dir}")
        if self.run.sizes:
            args.append(f"SIZES='{self.run.sizes_json}'")
        return f"make chapter CHAPTER={number} " + " ".join(args)

    def rerun_box(self) -> str:
        """A "Run this chapter yourself" box: which run this page shows, and the exact commands that execute this
        chapter alone at its parameters (``make``, or papermill on the Jupytext source)."""
        import shlex

        from .core import paths

        stem = {c: f"{i:02d}" for i, c in enumerate(profiles.chapters(), start=1)}[self.name] + f"_{self.name}"
        run, root = self.run, paths.project_root()
        data = f"the images in `{run.data_dir}`" if run.data_dir else "the embedded images"
        sizes = f", size overrides `{run.sizes_json}`" if run.sizes else ""
        where = run.chapters_dir.relative_to(root) if run.chapters_dir.is_relative_to(root) else run.chapters_dir
        params = "".join(f" \\\n  -p {key} {shlex.quote(str(value))}" for key, value in run.parameters().items()
                         if key != "sizes" or value)
        return ("::::{admonition} Run this chapter yourself\n:class: tip\n\n"
                f"This page shows run `{run.name}`: profile `{run.profile}`, seed {run.seed}, device `{run.device}`, "
                f"{data}{sizes}. To execute this chapter alone with the same parameters, from a clone of the "
                f"repository:\n\n```bash\n{self.rerun_command()}\n```\n\n"
                f"Its numbers go to `results/{run.name}/{self.name}.json`, the executed notebook (the one the "
                f"download button above offers) to `{where}/{stem}.ipynb`. Another `PROFILE` (`smoke`, `book`, "
                "`paper`), `SEED`, `DEVICE`, `DATA_DIR` or `SIZES` (a JSON object of size overrides) is another run, "
                "with its own folders: it never overwrites this one.\n\n"
                ":::{dropdown} In Jupyter, or with papermill\n"
                f"Open the Jupytext notebook `notebooks/{stem}.md` in Jupyter and set its parameters cell, or:\n\n"
                f"```bash\njupytext --to ipynb -o {stem}.ipynb \\\n  notebooks/{stem}.md\n"
                f"papermill {stem}.ipynb out.ipynb -k rdcn{params}\n```\n:::\n::::")

    def save(self) -> Path:
        """Write the chapter's results (``results/<run>/<chapter>.json``); returns the path."""
        return self.results.save()


def open_chapter(name: str, profile: str = "book", device: str = "cpu", data_dir: str = "", seed: int = 0,
                 sizes: str | dict | None = "") -> Chapter:
    """The session of chapter ``name`` at these notebook parameters (see the module's note). Bad parameters (an
    unknown profile or device, a seed that is not a non-negative integer, a data folder without the layout the
    chapter needs, a size override of the wrong kind) are errors naming them, raised before anything runs."""
    return Chapter(name, Run.of(profile, seed, device, data_dir, sizes))
