import json

import numpy as np
import pytest
import torch

from rdcn import paths
from rdcn.results import ChapterRun, load_all


def test_a_run_writes_its_numbers_claims_and_environment():
    run = ChapterRun("preliminaries", "smoke", seed=3, device="cpu", note="x")
    run.record("curve", np.arange(3.0))
    run.record("tensor", torch.tensor([1.5]))
    assert run.claim("c1", "a statement", {"value": np.float64(0.5)}, holds=np.bool_(True)) is True
    path = run.save()
    assert path == paths.results_dir() / "preliminaries.json"
    saved = json.loads(path.read_text())
    assert saved["numbers"] == {"curve": [0.0, 1.0, 2.0], "tensor": [1.5]}
    assert saved["claims"]["c1"] == dict(statement="a statement", measured={"value": 0.5}, holds=True,
                                         asserted=True, note="")
    assert saved["profile"] == "smoke" and saved["seed"] == 3 and saved["parameters"] == {"note": "x"}
    assert saved["environment"]["packages"]["torch"] == torch.__version__.split("+")[0]
    assert saved["wall_time_s"] >= 0
    assert list(load_all()) == ["preliminaries"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(chapter="intro", profile="book"), r"chapter must be one of"),
    (dict(chapter="theory", profile="fast"), r"profile must be one of"),
])
def test_bad_run_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChapterRun(seed=0, device="cpu", **kwargs)


def test_unstorable_values_are_refused():
    run = ChapterRun("theory", "smoke", 0, "cpu")
    with pytest.raises(TypeError, match="cannot store object"):
        run.record("x", object())
