import json
import os

import numpy as np
import pytest
import torch

from rdcn import claims
from rdcn.claims import rules
from rdcn.core import paths
from rdcn.core.results import ChapterRun, load_run, write_json
from rdcn.core.runs import Run


def test_a_chapter_writes_its_numbers_claims_and_environment_into_its_run_folder():
    run = Run.of("smoke", seed=3)
    chapter = ChapterRun("preliminaries", run, note="x")
    chapter.record("curve", np.arange(3.0))
    chapter.record("tensor", torch.tensor([1.5]))
    claim = claims.get("table1_exact")
    chapter.claim(claim, {"holds": np.bool_(True)}, rules.Verdict("holds", None, None, "yes"))
    path = chapter.save()
    assert path == paths.results_dir() / "smoke-seed3" / "preliminaries.json"
    saved = json.loads(path.read_text())
    assert saved["numbers"] == {"curve": [0.0, 1.0, 2.0], "tensor": [1.5]}
    assert saved["claims"]["table1_exact"]["verdict"]["state"] == "holds"
    assert saved["claims"]["table1_exact"]["statement"] == claim.statement
    assert saved["profile"] == "smoke" and saved["seed"] == 3 and saved["parameters"] == {"note": "x"}
    assert saved["run"] == "smoke-seed3"
    assert saved["environment"]["packages"]["torch"] == torch.__version__.split("+")[0]
    assert saved["wall_time_s"] >= 0
    assert list(load_run(run, ("preliminaries",))) == ["preliminaries"]


def test_load_run_names_a_missing_or_unreadable_chapter_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="theory.json"):
        load_run(tmp_path, ("theory",))
    (tmp_path / "theory.json").write_text('{"chapter": "the')
    with pytest.raises(ValueError, match="theory.json"):
        load_run(tmp_path, ("theory",))


def test_load_run_reads_only_chapter_files(tmp_path):
    write_json(tmp_path / "theory.json", {"chapter": "theory"})
    (tmp_path / "notes.json").write_text("not json")
    assert load_run(tmp_path, ("theory",)) == {"theory": {"chapter": "theory"}}


def test_results_are_written_atomically(tmp_path, monkeypatch):
    path = write_json(tmp_path / "a.json", {"x": 1})
    real_replace = os.replace

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_json(path, {"x": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    assert json.loads(path.read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_bad_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of"):
        ChapterRun("intro", Run())


def test_unstorable_values_are_refused():
    chapter = ChapterRun("theory", Run.of("smoke"))
    with pytest.raises(TypeError, match="cannot store object"):
        chapter.record("x", object())
