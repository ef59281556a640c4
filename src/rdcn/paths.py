"""Where rdcn writes: results (``results/<chapter>.json``) and the model cache (``data/cache``).

``RDCN_RESULTS_DIR`` and ``RDCN_CACHE_DIR`` override them; by default both live in the project checkout (found
from this file in the editable install the set-up makes), else under the current folder.
"""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout this package runs from (its ``pyproject.toml``), else the current folder."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "rdcn").is_dir() else Path.cwd()


def results_dir() -> Path:
    return Path(os.environ.get("RDCN_RESULTS_DIR") or project_root() / "results")


def cache_dir() -> Path:
    return Path(os.environ.get("RDCN_CACHE_DIR") or project_root() / "data" / "cache")
