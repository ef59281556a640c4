"""Where rdcn writes: results (``results/<run>/<chapter>.json``), the model cache (``data/cache``) and the build
outputs (``_build``).

``RDCN_RESULTS_DIR``, ``RDCN_CACHE_DIR`` and ``RDCN_BUILD_DIR`` override them; by default all live in the project
checkout (found from this file in the editable install the set-up makes), else under the current folder. The cache
folder is the one place trainings write their models: on a cluster, a shared filesystem path.
"""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout this package runs from (its ``pyproject.toml``), else the current folder."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "rdcn").is_dir() else Path.cwd()


def results_dir() -> Path:
    return Path(os.environ.get("RDCN_RESULTS_DIR") or project_root() / "results")


def benchmarks_file() -> Path:
    """Where ``make bench`` writes its measurements (the ledger shows them; the training plan reads its GPU rate)."""
    return results_dir() / "benchmarks.json"


def cache_dir() -> Path:
    return Path(os.environ.get("RDCN_CACHE_DIR") or project_root() / "data" / "cache")


def build_dir() -> Path:
    return Path(os.environ.get("RDCN_BUILD_DIR") or project_root() / "_build")
