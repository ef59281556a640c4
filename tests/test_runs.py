"""Runs (rdcn.core.runs): names, folders and size overrides."""
import json

import pytest

from rdcn.core import paths
from rdcn.core.runs import Run, parse_sizes


def test_the_default_run_is_the_book_and_keeps_todays_paths():
    run = Run.of()
    assert run.name == "book" and run.is_default
    assert run.html_dir == paths.project_root() / "_build" / "html"
    assert run.chapters_dir == paths.project_root() / "book" / "chapters"
    assert run.results_dir == paths.results_dir() / "book"


@pytest.mark.parametrize("kwargs, name", [
    (dict(profile="smoke"), "smoke"), (dict(profile="smoke", seed=1), "smoke-seed1"),
    (dict(profile="paper", device="cuda"), "paper-cuda"), (dict(seed=2), "book-seed2"),
])
def test_readable_names(kwargs, name):
    assert Run.of(**kwargs).name == name


def test_a_data_folder_or_an_override_adds_a_hash_and_other_runs_get_their_own_folders(tmp_path):
    a = Run.of("paper", data_dir=str(tmp_path))
    b = Run.of("paper", data_dir=str(tmp_path / "x"))
    c = Run.of("paper", sizes={"theory": {"networks": 2}})
    assert len({a.name, b.name, c.name}) == 3 and all(r.name.startswith("paper-") for r in (a, b, c))
    assert a.html_dir == paths.build_dir() / "runs" / a.name / "_build" / "html"
    assert Run.of("paper", sizes='{"theory": {"networks": 2}}') == c


def test_sizes_from_json_text_or_file(tmp_path):
    path = tmp_path / "sizes.json"
    path.write_text(json.dumps({"theory": {"widths": [4, 8], "networks": 2}}))
    assert parse_sizes(str(path)) == {"theory": {"networks": 2, "widths": [4, 8]}}
    assert Run.of(sizes=str(path)).overrides("theory") == {"networks": 2, "widths": (4, 8)}
    assert parse_sizes("") == {} and parse_sizes(None) == {}


@pytest.mark.parametrize("sizes, match", [
    ('{"theory": {"networks": 2.5}}', "networks.*positive integer"),
    ('{"theory": {"widths": [4, "x"]}}', "widths.*positive integer"),
    ('{"nope": {}}', "chapter must be one of"),
    ('{"theory": {"netwrks": 2}}', r"unknown size\(s\) \['netwrks'\]"),
    ('{"theory": ', "not valid JSON"),
    ("/no/such/file.json", "no such file"),
    ('["theory"]', "JSON object"),
])
def test_bad_sizes_are_named(sizes, match):
    with pytest.raises(ValueError, match=match):
        Run.of(sizes=sizes)


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed="1"), "seed must be a non-negative integer"), (dict(seed=-1), "seed must be"),
    (dict(seed=True), "seed must be"), (dict(profile="fast"), "profile must be one of"),
    (dict(device="tpu"), "device must be one of"), (dict(data_dir=3), "data_dir must be a string"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Run.of(**kwargs)
