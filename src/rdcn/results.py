"""What each executed chapter measured, and the papers' claims checked on it: ``results/<chapter>.json``.

A notebook opens a :class:`ChapterRun`, records its figures' numbers with :meth:`ChapterRun.record`, states each
claim with :meth:`ChapterRun.claim` (id, the paper's statement, the measured numbers, whether it holds, and whether
the ``book`` profile is designed to show it so that ``make test`` asserts it) and saves. The book's ledger page and
the claim tests read these files back with :func:`load_all`.
"""
from __future__ import annotations

import json
import math
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from . import paths, profiles

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "scikit-image", "matplotlib", "rdcn")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return _jsonable(value.tolist())
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


class ChapterRun:
    """One execution of one chapter: parameters, measured numbers, claims and wall time."""

    def __init__(self, chapter: str, profile: str, seed: int, device: str, **parameters: Any):
        if chapter not in profiles.chapters():
            raise ValueError(f"chapter must be one of {list(profiles.chapters())}, got {chapter!r}")
        self.chapter = chapter
        self.profile = profiles.check_profile(profile)
        self.device = profiles.check_device(device)
        self.seed = seed
        self.parameters = parameters
        self.numbers: dict[str, Any] = {}
        self.claims: dict[str, dict[str, Any]] = {}
        self._start = time.perf_counter()

    def record(self, key: str, value: Any) -> Any:
        """Store a measured number (or array, table) under ``key``; returns ``value``."""
        self.numbers[key] = _jsonable(value)
        return value

    def claim(self, claim_id: str, statement: str, measured: dict[str, Any], holds: bool,
              asserted: bool = True, note: str = "") -> bool:
        """State a claim: the paper's ``statement``, the ``measured`` numbers it was judged on, whether it
        ``holds``; ``asserted`` = the book profile is designed to show it (``make test`` then requires it);
        ``note`` says why where it does not hold. Returns ``holds``."""
        self.claims[claim_id] = dict(statement=statement, measured=_jsonable(measured), holds=bool(holds),
                                     asserted=bool(asserted), note=note)
        return bool(holds)

    def save(self) -> Path:
        """Write ``results/<chapter>.json`` (with wall time and environment) and return its path."""
        folder = paths.results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.chapter}.json"
        payload = dict(chapter=self.chapter, profile=self.profile, seed=self.seed, device=self.device,
                       parameters=_jsonable(self.parameters), wall_time_s=round(time.perf_counter() - self._start, 2),
                       environment=environment(self.device), numbers=self.numbers, claims=self.claims)
        path.write_text(json.dumps(payload, indent=1))
        return path


def load_all(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every chapter's saved results, by chapter name, in the order of :func:`rdcn.profiles.chapters`."""
    folder = Path(folder) if folder is not None else paths.results_dir()
    found = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.is_dir() else {}
    return {c: found[c] for c in profiles.chapters() if c in found}
