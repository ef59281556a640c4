"""The ledger (rdcn.ledger): one row per registered claim with its verdict, only its own run's results, the
environment, wall times and performance; and every claim anchored in its chapter for the ledger's links."""
import json
import re

import nbformat
import pytest

from rdcn import claims, ledger
from rdcn.claims.rules import FAILS, HOLDS, INCONCLUSIVE
from rdcn.core import paths, profiles
from rdcn.core.runs import Run

STATES = (HOLDS, FAILS, INCONCLUSIVE)


def _results(run: Run, skip: str | None = None) -> dict:
    """Fake results of every chapter of ``run``: each registered claim with a verdict (cycling through the states),
    but ``skip`` left unmeasured."""
    results = {}
    for i, chapter in enumerate(profiles.chapters()):
        stored = {}
        for j, claim in enumerate(claims.of_chapter(chapter)):
            if claim.id == skip:
                continue
            state = STATES[(i + j) % 3]
            stored[claim.id] = dict(claim.describe(), measured={"values": list(range(20)), "x_*$": 0.123456789},
                                    verdict=dict(state=state, statistic=0.5, interval=[0.1, 0.9],
                                                 summary=f"mean paired difference 0.5 <{state}>"))
        env = dict(python="3.11", platform="Linux", processor="x86_64", threads=2, device="cpu",
                   packages={"torch": "2.15.0", "rdcn": "0.1.0"})
        results[chapter] = dict(chapter=chapter, run=run.name, profile=run.profile, seed=run.seed,
                                wall_time_s=1.5 + i, environment=env, claims=stored)
    return results


def _write(run: Run, results: dict) -> None:
    run.results_dir.mkdir(parents=True, exist_ok=True)
    for chapter, result in results.items():
        (run.results_dir / f"{chapter}.json").write_text(json.dumps(result))


def test_one_row_per_registered_claim_with_its_badge_and_a_missing_one_marked():
    run = Run.of("smoke")
    missing = claims.of_chapter("theory")[0].id
    results = _results(run, skip=missing)
    rows = 0
    for chapter in profiles.chapters():
        table = ledger.claims_table(run, chapter, results)
        assert table.startswith("````{list-table}") and ":class: ledger-table" in table
        for claim in claims.of_chapter(chapter):
            assert f"`{claim.id}`" in table
            rows += 1
        assert table.count("\n* - ") == len(claims.of_chapter(chapter)) + 1  # the header, then one per claim
    assert rows == len(claims.REGISTRY)
    theory = ledger.claims_table(run, "theory", results)
    assert "{bdg-secondary}`not measured`" in theory
    n = ledger.counts(results, run.profile)
    assert n["not measured"] == 1 and sum(n[s] for s in STATES) == len(claims.REGISTRY) - 1


def test_the_rows_escape_the_registry_text_and_fold_long_numbers():
    run = Run.of("smoke")
    table = ledger.claims_table(run, "preliminaries", _results(run))
    assert r"x\_\*\$" in table and r"\<" in table  # no emphasis, math or HTML out of measured names and summaries
    assert "… (20 values)" in table and "0.1235" in table
    assert ledger.format_value(list(range(3))) == "[0, 1, 2]"
    assert len(ledger.format_value("x" * 5000)) == ledger.TEXT_LIMIT


def test_links_go_to_the_claims_anchor_where_the_executed_chapter_has_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RDCN_BUILD_DIR", str(tmp_path))
    run = Run.of("smoke")
    first, second = [c.id for c in claims.of_chapter("preliminaries")][:2]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"text\n({'claim-' + first})=\nmore")])
    run.chapters_dir.mkdir(parents=True)
    nbformat.write(notebook, run.chapters_dir / "01_preliminaries.ipynb")
    assert ledger.anchored(run, "preliminaries") == {first}
    table = ledger.claims_table(run, "preliminaries", _results(run))
    assert f"<claim-{first}>`" in table and f"<claim-{second}>`" not in table
    assert "{doc}`chapter 1 <01_preliminaries>`" in table


def test_the_ledger_reads_only_its_own_run(monkeypatch):
    run = Run.of("smoke", seed=1)
    with pytest.raises(FileNotFoundError, match="preliminaries"):
        ledger.load(run)
    results = _results(run)
    results["theory"]["run"] = "book"
    _write(run, results)
    with pytest.raises(ValueError, match="belongs to run 'book'"):
        ledger.load(run)
    _write(run, _results(run))
    assert set(ledger.load(run)) == set(profiles.chapters())
    text = ledger.summary(run, ledger.load(run))
    assert "`smoke-seed1`" in text and "results/smoke-seed1/" in text and f"{len(claims.REGISTRY)} registered" in text


def test_environment_timings_and_performance(tmp_path, monkeypatch):
    monkeypatch.setenv("RDCN_BUILD_DIR", str(tmp_path))  # no executed notebooks: no notebook wall times
    run = Run.of("smoke")
    results = _results(run)
    assert ledger.environment(results).startswith("Every chapter ran on: Python 3.11")
    results["theory"]["environment"] = dict(results["theory"]["environment"], threads=16)
    assert "different environments" in ledger.environment(results)
    timings = ledger.timings(run, results)
    assert timings.count("\n|") == len(profiles.chapters()) + 2 and "**all chapters**" in timings
    assert "| theory | 4.5 | – |" in timings
    assert "`make bench`" in ledger.performance(paths.results_dir() / "absent.json")
    bench = paths.results_dir() / "benchmarks.json"
    bench.parent.mkdir(parents=True, exist_ok=True)
    environment = {"device": "cpu", "threads": 2, "packages": {"torch": "2.9"}}
    rows = [{"workload": "ch2 step", "unit": "training step", "time_per_unit_s": 0.0125, "useful_gflops": 60.0,
             "fraction_of_peak": 0.3, "baseline": {"path": "literal", "time_per_unit_s": 0.025},
             "speedup_vs_baseline": 2.0},
            {"workload": "ssim", "unit": "image", "time_per_unit_s": 0.002, "useful_gflops": None,
             "fraction_of_peak": None, "baseline": None, "speedup_vs_baseline": None}]
    bench.write_text(json.dumps({"environment": environment, "matmul_gflops": 200.0, "rows": rows}))
    text = ledger.performance(bench)
    assert "fp32 matmul peak 200.0 GFLOP/s" in text and "2 threads" in text
    assert "| ch2 step | 12.5 ms per training step | 60.0 | 30% | 2.00× vs literal |" in text
    assert "| ssim | 2 ms per image | – | – | – |" in text
    for broken in ("{broken", json.dumps({"rows": []}), json.dumps({"environment": environment, "matmul_gflops": 1,
                                                                    "rows": [{"unit": "step"}]})):
        bench.write_text(broken)
        with pytest.raises(ValueError, match="benchmarks.json"):
            ledger.performance(bench)


def test_the_ledger_notebook_shows_every_chapter():
    source = (paths.project_root() / "notebooks" / "ledger.md").read_text()
    for chapter in profiles.chapters():
        assert f"{{glue:md}} ledger-claims-{chapter}" in source, chapter
    for part in ("summary", "environment", "timings", "performance"):
        assert f"{{glue:md}} ledger-{part}" in source, part


def test_every_claim_has_its_anchor_in_its_chapter():
    """The ledger links each claim to the paragraph of its chapter that decides it: ``(claim-<id>)=``."""
    lacking = {}
    for chapter in profiles.chapters():
        source = (paths.project_root() / "notebooks" / f"{ledger.chapter_page(chapter)}.md").read_text()
        found = set(re.findall(r"^\(claim-([\w.\-]+)\)=\s*$", source, flags=re.M))
        missing = [c.id for c in claims.of_chapter(chapter) if c.id not in found]
        if missing:
            lacking[chapter] = missing
    assert not lacking, f"claims without their target (claim-<id>)= in their chapter's notebook: {lacking}"
