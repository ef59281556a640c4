"""A *run* of the book: what defines it (profile, seed, device, data folder, size overrides) and where its outputs go.

Every output of a run — its results JSON, its executed notebooks, its HTML — lives under a folder named for the run,
so a rerun with other parameters never overwrites another run's. The name is short and readable, with a hash where
the readable part cannot tell runs apart:

- ``book`` — the default run (profile ``book``, seed 0, CPU, the embedded data, no override);
- ``smoke``, ``smoke-seed1``, ``paper-cuda`` — profile, then ``-seed<N>`` and ``-<device>`` where they differ from
  the default;
- ``paper-cuda-3f9a61c2`` — plus the first 8 hex digits of a hash of the data folder and the size overrides,
  whenever either is given.

The model cache (:func:`rdcn.core.paths.cache_dir`) is shared by every run: its keys hold each model's whole
configuration. ``sizes`` overrides are a JSON object ``{chapter: {size: value}}`` (or the path of a file holding
one), the mechanism a researcher uses to run a custom scale and CI uses to rehearse the ``paper`` profile in seconds.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import checks, paths, profiles

DEFAULT_NAME = "book"


def parse_sizes(sizes: str | dict | None) -> dict[str, dict[str, Any]]:
    """Size overrides from a JSON object's text, the path of a ``.json`` file, a dict, or ``""``/None (none).

    The result maps each chapter to its overrides; unknown chapters and sizes, and values of the wrong kind, are
    errors naming them (checked by :func:`rdcn.core.profiles.sizes`)."""
    if sizes is None or sizes == "":
        return {}
    if isinstance(sizes, str):
        text = sizes.strip()
        if not text.startswith("{"):
            path = Path(text).expanduser()
            if not path.is_file():
                raise ValueError(f"sizes must be a JSON object or the path of a JSON file, got {sizes!r} (no such "
                                 "file)")
            text = path.read_text()
        try:
            sizes = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"sizes is not valid JSON ({error}): {text[:200]!r}") from None
    if not isinstance(sizes, dict) or not all(isinstance(v, dict) for v in sizes.values()):
        raise ValueError(f"sizes must be a JSON object {{chapter: {{size: value}}}}, got {sizes!r}")
    for chapter, overrides in sizes.items():
        profiles.sizes(chapter, "book", **profiles.from_json(chapter, overrides))  # validates names and kinds
    return {chapter: dict(sorted(overrides.items())) for chapter, overrides in sorted(sizes.items()) if overrides}


@dataclass(frozen=True)
class Run:
    """The parameters that define a run. Build it with :meth:`of`, which validates them."""

    profile: str = "book"
    seed: int = 0
    device: str = "cpu"
    data_dir: str = ""
    sizes_json: str = "{}"  # canonical JSON of the size overrides

    @classmethod
    def of(cls, profile: str = "book", seed: int = 0, device: str = "cpu", data_dir: str = "",
           sizes: str | dict | None = None) -> Run:
        """A validated run: known profile and device, integer seed, data folder as an absolute path ('' for the
        embedded data), size overrides parsed and checked (see :func:`parse_sizes`)."""
        profiles.check_profile(profile)
        checks.choice("device", device, profiles.DEVICES)
        checks.seed(seed)
        if not isinstance(data_dir, str):
            raise ValueError(f"data_dir must be a string (a folder, or '' for the embedded data), got {data_dir!r}")
        folder = str(Path(data_dir).expanduser().resolve()) if data_dir else ""
        return cls(profile, seed, device, folder, json.dumps(parse_sizes(sizes), sort_keys=True))

    @classmethod
    def from_environment(cls, **given: Any) -> Run:
        """The run whose parameters are ``given`` (None or absent: not given) or else read from the environment
        variables the Makefile exports (``RDCN_PROFILE``, ``RDCN_SEED``, ``RDCN_DEVICE``, ``RDCN_DATA_DIR``,
        ``RDCN_SIZES``), else the defaults."""
        values = {}
        for name, default in (("profile", "book"), ("seed", "0"), ("device", "cpu"), ("data_dir", ""), ("sizes", "")):
            value = given.get(name)
            values[name] = value if value is not None else os.environ.get(f"RDCN_{name.upper()}") or default
        try:
            values["seed"] = int(values["seed"])
        except ValueError:
            raise ValueError(f"seed must be a non-negative integer, got {values['seed']!r}") from None
        return cls.of(**values)

    @property
    def sizes(self) -> dict[str, dict[str, Any]]:
        """The size overrides, by chapter."""
        return json.loads(self.sizes_json)

    def overrides(self, chapter: str) -> dict[str, Any]:
        """The size overrides of ``chapter`` (tuples where the profile's value is a tuple)."""
        return profiles.from_json(chapter, self.sizes.get(chapter, {}))

    @property
    def is_default(self) -> bool:
        return self == Run()

    @property
    def name(self) -> str:
        """``book`` for the default run, else profile[-seedN][-device][-hash] (see the module's note)."""
        if self.is_default:
            return DEFAULT_NAME
        name = self.profile + (f"-seed{self.seed}" if self.seed else "") + (
            f"-{self.device}" if self.device != "cpu" else "")
        if self.data_dir or self.sizes:
            digest = hashlib.sha256(json.dumps([self.data_dir, self.sizes], sort_keys=True).encode()).hexdigest()
            name += f"-{digest[:8]}"
        return name

    def parameters(self) -> dict[str, Any]:
        """The notebook parameters of this run (what papermill passes)."""
        return dict(profile=self.profile, device=self.device, data_dir=self.data_dir, seed=self.seed,
                    sizes="" if not self.sizes else self.sizes_json)

    @property
    def results_dir(self) -> Path:
        """``results/<name>/``: the run's ``<chapter>.json`` files."""
        return paths.results_dir() / self.name

    @property
    def source_dir(self) -> Path:
        """The book source the run's HTML is built from: the checkout itself for the default run, else
        ``_build/runs/<name>/`` (a copy of the book's pages and configuration beside the run's notebooks)."""
        return paths.project_root() if self.is_default else paths.build_dir() / "runs" / self.name

    @property
    def chapters_dir(self) -> Path:
        """Where the run's executed notebooks go: ``book/chapters/`` of its source folder."""
        return self.source_dir / "book" / "chapters"

    @property
    def html_dir(self) -> Path:
        """The run's built HTML: ``_build/html`` for the default run, ``_build/runs/<name>/_build/html`` else."""
        return self.source_dir / "_build" / "html"
