"""What each executed chapter measured, and the papers' claims decided on it: ``results/<run>/<chapter>.json``.

A notebook's session (:mod:`rdcn.notebook`) opens a :class:`ChapterRun`, records its figures' numbers with
:meth:`ChapterRun.record`, stores each claim's verdict (decided by the registry, :mod:`rdcn.claims`) with
:meth:`ChapterRun.claim`, and saves — atomically: the file is written under a temporary name and renamed, so a
reader never sees half of it. The ledger and the claim tests read one run's files back with :func:`load_run`.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from . import profiles
from .runs import Run

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-image", "matplotlib", "rdcn")


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: numpy and torch values as lists and numbers, non-finite floats as strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"cannot store {type(value).__name__} in results JSON: {value!r}")


def environment(device: str) -> dict[str, Any]:
    """Python, platform, device and the versions of the packages the numbers depend on."""
    import torch

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    info = dict(python=platform.python_version(), platform=platform.platform(), processor=platform.machine(),
                threads=torch.get_num_threads(), device=device, packages=versions)
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as JSON to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_text(json.dumps(payload, indent=1))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


class ChapterRun:
    """One execution of one chapter in one run: its parameters, measured numbers, claims and wall time."""

    def __init__(self, chapter: str, run: Run, **parameters: Any):
        self.chapter = profiles.check_chapter(chapter)
        self.run = run
        self.parameters = parameters
        self.numbers: dict[str, Any] = {}
        self.claims: dict[str, dict[str, Any]] = {}
        self._start = time.perf_counter()

    def record(self, key: str, value: Any) -> Any:
        """Store a measured number (or array, table) under ``key``; returns ``value``."""
        self.numbers[key] = jsonable(value)
        return value

    def claim(self, claim, measured: dict[str, Any], verdict) -> None:
        """Store a registered claim (:class:`rdcn.claims.Claim`), the numbers it was decided on and its verdict."""
        self.claims[claim.id] = dict(claim.describe(), measured=jsonable(measured), verdict=verdict.as_dict())

    def save(self) -> Path:
        """Write ``results/<run>/<chapter>.json`` (with wall time and environment) and return its path."""
        run = self.run
        payload = dict(chapter=self.chapter, run=run.name, profile=run.profile, seed=run.seed, device=run.device,
                       data_dir=run.data_dir, sizes=run.sizes, parameters=jsonable(self.parameters),
                       wall_time_s=round(time.perf_counter() - self._start, 2), environment=environment(run.device),
                       numbers=self.numbers, claims=self.claims)
        return write_json(self.run.results_dir / f"{self.chapter}.json", payload)


def load_run(run: Run | str | Path, chapters: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """The results of one run (a :class:`Run`, or its folder), by chapter, in the order of
    :func:`rdcn.core.profiles.chapters` (or of ``chapters``). Only ``<chapter>.json`` files are read; a missing
    chapter or an unreadable file is an error naming it."""
    folder = run.results_dir if isinstance(run, Run) else Path(run)
    found = {}
    for chapter in chapters or profiles.chapters():
        path = folder / f"{chapter}.json"
        if not path.is_file():
            raise FileNotFoundError(f"no results for chapter {chapter!r}: {path} is missing (execute its notebook)")
        try:
            found[chapter] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read the results file {path}: {error}") from None
    return found
