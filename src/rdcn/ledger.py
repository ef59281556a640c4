"""The ledger page of one run: every registered claim (:mod:`rdcn.claims`) with its verdict, and the run's
environment, wall times and performance, as MyST Markdown the ledger notebook glues.

The ledger reads only its own run's results (:func:`rdcn.core.results.load_run` of the :class:`~rdcn.core.runs.Run`
its parameters define); a chapter missing from that run, or a results file of another run, is an error naming it.
For each chapter, :func:`claims_table` gives one row per registered claim: its verdict badge and whether the run's
profile is designed to show it (else the knob along which the chapter shows it); the paper's statement, its id, the
paper and section, a link to the paragraph of the chapter that decides it (the MyST target ``(claim-<id>)=`` the
chapter puts there), the measured statistic, the rule and where its thresholds come from, and the measured numbers,
folded. :func:`glue_ledger` glues
every part; the notebook holds only prose and that call.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from . import claims
from .claims.rules import FAILS, HOLDS, INCONCLUSIVE, STATES
from .core import paths, profiles
from .core.results import load_run
from .core.runs import Run

BADGES = {HOLDS: "bdg-success", FAILS: "bdg-danger", INCONCLUSIVE: "bdg-warning"}
MISSING = "not measured"
LIST_LIMIT = 8  # a list longer than this is shown by its first and last values and its length
TEXT_LIMIT = 600  # characters of one measured value, at most


def _escape(text: str) -> str:
    """Plain text made safe inside MyST (no emphasis, math, roles or HTML from the registry's wording)."""
    return re.sub(r"([\\`*$<>|\[\]_])", r"\\\1", str(text))


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def format_value(value: Any) -> str:
    """A measured value as one short line of text: numbers to 4 significant digits, long lists by their ends."""
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        items = [format_value(v) for v in value]
        if len(items) > LIST_LIMIT:
            items = items[:LIST_LIMIT - 2] + [f"… ({len(value)} values)"] + items[-1:]
        text = "[" + ", ".join(items) + "]"
    else:
        text = _number(value)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1] + "…"


def chapter_page(chapter: str) -> str:
    """The chapter's page name, its notebook's stem (``03_random_cnn_random_dcn``)."""
    number = profiles.chapters().index(profiles.check_chapter(chapter)) + 1
    return f"{number:02d}_{chapter}"


def anchored(run: Run, chapter: str) -> set[str]:
    """The claim ids whose target ``(claim-<id>)=`` the run's executed notebook of ``chapter`` holds (the page
    the book renders; none where it is missing)."""
    import nbformat

    path = run.chapters_dir / f"{chapter_page(chapter)}.ipynb"
    if not path.is_file():
        return set()
    text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown")
    return set(re.findall(r"^\(claim-([\w.\-]+)\)=\s*$", text, flags=re.M))


def _indent(block: str, spaces: int = 4) -> str:
    return "\n".join((" " * spaces + line) if line else "" for line in block.splitlines())


def _row(claim: claims.Claim, entry: dict | None, profile: str, has_anchor: bool) -> list[str]:
    stem = chapter_page(claim.chapter)
    number = profiles.chapters().index(claim.chapter) + 1
    state = entry["verdict"]["state"] if entry else MISSING
    badge = f"{{{BADGES.get(state, 'bdg-secondary')}}}`{state}`"
    link = (f"{{ref}}`decided in chapter {number} <claim-{claim.id}>`" if has_anchor
            else f"{{doc}}`chapter {number} <{stem}>`")
    if profile in claim.designed_for:
        designed = f"Designed to show at the `{profile}` profile."
    else:
        knob = f" Its chapter shows it along its scale knob: {_escape(claim.knob)}." if claim.knob else ""
        designed = f"Not designed for the `{profile}` profile.{knob}"
    measured = _escape(entry["verdict"]["summary"]) if entry else "no result recorded for this claim"
    numbers = "\n".join(f"- {_escape(key)}: {_escape(format_value(value))}"
                        for key, value in (entry["measured"] if entry else {}).items()) or "(none)"
    verdict = f"{badge}\n\n{designed}"
    if claim.revised:
        verdict += "\n\n*Revised after its numbers were seen (see the claim).*"
    claim_text = (f"{_escape(claim.statement)}\n\n"
                  f"`{claim.id}` · *{claims.PAPERS[claim.paper]}, {_escape(claim.where)}* · {link}\n\n"
                  f"**Measured**: {measured}.\n\n"
                  f"**Rule**: {_escape(claim.rule.describe())}. **Thresholds**: {_escape(claim.thresholds)}.\n\n"
                  + (f"**Revised after its numbers were seen**: {_escape(claim.revised)}\n\n" if claim.revised else "")
                  + f":::{{dropdown}} Numbers\n{numbers}\n:::")
    return [verdict, claim_text]


def claims_table(run: Run, chapter: str, results: dict[str, dict]) -> str:
    """The MyST list-table of ``chapter``'s registered claims (class ``ledger-table``), one row per claim, in
    registration order: its verdict and design, then the claim, its source, the link to the chapter, what was
    measured, the rule and its thresholds, and the numbers (folded). A claim the results lack is "not measured"."""
    stored, profile = results.get(chapter, {}).get("claims", {}), run.profile
    anchors = anchored(run, chapter)
    lines = ["````{list-table}", ":header-rows: 1", ":widths: 20 80", ":width: 100%", ":class: ledger-table", "",
             "* - Verdict", "  - Claim, source, measurement and rule"]
    for claim in claims.of_chapter(chapter):
        cells = _row(claim, stored.get(claim.id), profile, claim.id in anchors)
        for i, cell in enumerate(cells):
            lines.append(("* - " if i == 0 else "  - ") + _indent(cell).lstrip())
    lines.append("````")
    return "\n".join(lines)


def counts(results: dict[str, dict], profile: str) -> dict[str, int]:
    """How many registered claims the run decided in each state, and how many it was designed to show."""
    found = {state: 0 for state in (*STATES, MISSING)}
    designed = designed_hold = 0
    for claim in claims.REGISTRY.values():
        entry = results.get(claim.chapter, {}).get("claims", {}).get(claim.id)
        state = entry["verdict"]["state"] if entry else MISSING
        found[state] += 1
        if profile in claim.designed_for:
            designed += 1
            designed_hold += state == HOLDS
    return dict(found, claims=len(claims.REGISTRY), designed=designed, designed_hold=designed_hold)


def summary(run: Run, results: dict[str, dict]) -> str:
    """Which run this is, and its claims counted by verdict."""
    n = counts(results, run.profile)
    data = f"the images in `{run.data_dir}`" if run.data_dir else "the embedded images"
    sizes = f"size overrides `{run.sizes_json}`" if run.sizes else "no size override"
    missing = f", and {n[MISSING]} were not measured" if n[MISSING] else ""
    return (f"This ledger is run `{run.name}`: profile `{run.profile}`, seed {run.seed}, device `{run.device}`, "
            f"{data}, {sizes}. It reads only that run's results, `results/{run.name}/`.\n\n"
            f"Of the {n['claims']} registered claims, {n[HOLDS]} hold, {n[FAILS]} do not hold and "
            f"{n[INCONCLUSIVE]} are inconclusive at this scale{missing}. The `{run.profile}` profile is designed to "
            f"show {n['designed']} of them, and {n['designed_hold']} of those hold.")


def environment(results: dict[str, dict]) -> str:
    """The machine and package versions the run's chapters report (one line per distinct environment)."""
    seen: dict[str, list[str]] = {}
    for chapter, result in results.items():
        env = result["environment"]
        packages = ", ".join(f"{name} {version}" for name, version in env["packages"].items() if version)
        gpu = f", GPU {env['gpu']}" if env.get("gpu") else ""
        line = (f"Python {env['python']} on {env['platform']} ({env['processor']}, {env['threads']} torch threads, "
                f"device {env['device']}{gpu}); {packages}")
        seen.setdefault(line, []).append(chapter)
    if len(seen) == 1:
        return f"Every chapter ran on: {_escape(next(iter(seen)))}."
    return "The chapters ran on different environments:\n\n" + "\n".join(
        f"- {', '.join(chapters)}: {_escape(line)}" for line, chapters in seen.items())


def notebook_wall_time(run: Run, chapter: str) -> float | None:
    """The executed notebook's wall time (papermill, kernel start included) as ``rdcn.book`` stamped it."""
    import nbformat

    path = run.chapters_dir / f"{chapter_page(chapter)}.ipynb"
    if not path.is_file():
        return None
    return nbformat.read(path, as_version=4).metadata.get("rdcn", {}).get("wall_time_s")


def timings(run: Run, results: dict[str, dict]) -> str:
    """Each chapter's wall time: its computation (the chapter's session, from opening to saving) and its whole
    notebook (kernel start and imports included), with the totals."""
    lines = ["| chapter | computation (s) | notebook (s) |", "|---|---:|---:|"]
    total = total_notebook = 0.0
    for chapter, result in results.items():
        notebook = notebook_wall_time(run, chapter)
        total += result["wall_time_s"]
        total_notebook += notebook or 0.0
        shown = f"{notebook:.1f}" if notebook is not None else "–"
        lines.append(f"| {chapter} | {result['wall_time_s']:.1f} | {shown} |")
    lines.append(f"| **all chapters** | **{total:.1f}** | **{total_notebook:.1f}** |")
    return "\n".join(lines)


def _share(value: Any) -> str:
    return "–" if value is None else f"{value:.0%}"


def _bench_row(row: dict) -> str:
    baseline = row.get("baseline") or {}
    speedup = row.get("speedup_vs_baseline")
    versus = "–" if speedup is None else f"{speedup:.2f}× vs {_escape(baseline.get('path', 'the baseline'))}"
    useful = row.get("useful_gflops")
    cells = [_escape(row["workload"]), f"{row['time_per_unit_s'] * 1e3:.3g} ms per {_escape(row['unit'])}",
             "–" if useful is None else f"{useful:.1f}", _share(row.get("fraction_of_peak")), versus]
    return "| " + " | ".join(cells) + " |"


def performance(path: Path | None = None) -> str:
    """The measurements of ``results/benchmarks.json`` (written by ``benchmarks/bench.py``, ``make bench``): the
    machine's fp32 matmul peak, then one row per workload with its time, its useful FLOP/s (no FLOP on a structural
    zero counted), their share of that peak and its speed-up over the baseline path measured in the same run;
    without the file, a sentence saying how to make it."""
    path = path or paths.benchmarks_file()
    if not path.is_file():
        return (f"No performance measurements on this machine (`results/{path.name}` is absent): `make bench` "
                "measures them.")
    try:
        payload = json.loads(path.read_text())
        environment, rows = payload["environment"], payload["rows"]
        lines = [f"From `results/{path.name}` (`make bench`), on {_escape(environment['device'])} with "
                 f"{environment['threads']} threads, torch {_escape(environment['packages']['torch'])}: fp32 matmul "
                 f"peak {payload['matmul_gflops']:.1f} GFLOP/s.", "",
                 "| workload | time | useful GFLOP/s | of peak | speed-up |", "|---|---|---|---|---|"]
        lines += [_bench_row(row) for row in rows]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"cannot read the performance measurements {path} (as written by benchmarks/bench.py): "
                         f"{error!r}") from None
    return "\n".join(lines)


def load(run: Run) -> dict[str, dict]:
    """The run's results (every chapter; an error naming a missing chapter), checked to be that run's own."""
    results = load_run(run)
    for chapter, result in results.items():
        if result.get("run") != run.name:
            raise ValueError(f"results/{run.name}/{chapter}.json belongs to run {result.get('run')!r}, not "
                             f"{run.name!r}: execute the chapter in this run")
    return results


def glue_ledger(profile: str = "book", seed: int = 0, device: str = "cpu", data_dir: str = "",
                sizes: str | dict | None = "") -> dict[str, str]:
    """Glue the ledger of the run these notebook parameters define: ``ledger-summary``, ``ledger-claims-<chapter>``
    for every chapter, ``ledger-environment``, ``ledger-timings`` and ``ledger-performance`` (MyST Markdown, for
    ``{glue:md}`` with ``:format: myst``). Returns them by name."""
    from IPython.display import Markdown
    from myst_nb import glue

    run = Run.of(profile, seed, device, data_dir, sizes)
    results = load(run)
    parts = {"ledger-summary": summary(run, results)}
    for chapter in profiles.chapters():
        parts[f"ledger-claims-{chapter}"] = claims_table(run, chapter, results)
    parts.update({"ledger-environment": environment(results), "ledger-timings": timings(run, results),
                  "ledger-performance": performance()})
    for name, text in parts.items():
        glue(name, Markdown(text), display=False)
    return parts
