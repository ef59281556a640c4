"""Reruns with other parameters never touch the book's outputs (issue: reruns are first-class).

``make reruns`` runs this after ``make book``: it fingerprints the default run's results, executed notebooks and
HTML, then builds another run (profile smoke, seed 1) with the Makefile and executes one notebook by hand with
papermill from the ``notebooks/`` folder (seed 2), and checks that the book's files are unchanged byte for byte, that
each other run wrote into its own folders, and that each run's ledger shows only that run's profile and seed.
"""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rdcn.core import paths
from rdcn.core.runs import Run

pytestmark = pytest.mark.reruns


def _fingerprint(*folders: Path) -> dict[str, str]:
    files = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def _ledger_text(run: Run) -> str:
    ledger = nbformat.read(run.chapters_dir / "ledger.ipynb", as_version=4)
    return json.dumps([c.get("outputs", []) for c in ledger.cells])


def test_other_runs_leave_the_book_untouched_and_stand_apart(tmp_path):
    book = Run.of()
    if not (book.html_dir / "index.html").is_file():
        pytest.fail("build the book first (make book)")
    before = _fingerprint(book.results_dir, book.chapters_dir, book.html_dir)
    assert before

    other = Run.of("smoke", seed=1)
    subprocess.run(["make", "book", "PROFILE=smoke", "SEED=1", "DATA_DIR=", "SIZES=", "DEVICE=cpu"],
                   cwd=paths.project_root(), check=True)
    by_hand = Run.of("smoke", seed=2)
    notebooks = paths.project_root() / "notebooks"
    executed = tmp_path / "01_preliminaries.ipynb"
    subprocess.run([sys.executable, "-m", "jupytext", "--to", "ipynb", "-o", str(tmp_path / "source.ipynb"),
                    str(notebooks / "01_preliminaries.md")], check=True)
    subprocess.run([sys.executable, "-m", "papermill", str(tmp_path / "source.ipynb"), str(executed), "-k", "rdcn",
                    "-p", "profile", "smoke", "-p", "seed", "2"], cwd=notebooks, check=True)

    assert _fingerprint(book.results_dir, book.chapters_dir, book.html_dir) == before
    assert (other.html_dir / "index.html").is_file() and other.html_dir != book.html_dir
    for run in (other, by_hand):
        for path in run.results_dir.glob("*.json"):
            saved = json.loads(path.read_text())
            assert (saved["run"], saved["profile"], saved["seed"]) == (run.name, run.profile, run.seed), path
    assert (by_hand.results_dir / "preliminaries.json").is_file()
    ledger = _ledger_text(other)
    assert other.name in ledger and f"`{book.name}`" not in ledger
