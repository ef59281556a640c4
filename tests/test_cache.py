"""The hash-keyed model cache (rdcn.cache)."""
import pytest
import torch
from torch import nn

from rdcn.core import cache


def _make():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def _build(calls):
    def build(module):
        calls.append(1)
        with torch.no_grad():
            module.weight.fill_(len(calls))
        return {"score": 0.5}
    return build


def test_key_depends_on_config_values_tensors_and_code():
    base = cache.key({"a": 1, "b": (2, 3)})
    assert base == cache.key({"b": [2, 3], "a": 1})  # order and tuple/list do not matter
    assert base != cache.key({"a": 1, "b": (2, 4)})
    assert cache.key({"w": torch.zeros(3)}) != cache.key({"w": torch.tensor([0.0, 0.0, 1e-9])})
    assert base != cache.key({"a": 1, "b": (2, 3)}, code=(_make,))


def test_key_rejects_what_it_cannot_hash():
    with pytest.raises(TypeError, match="cache configuration"):
        cache.key({"f": object()})


def test_cached_module_builds_once_then_loads():
    calls = []
    module, info = cache.cached_module("unit", {"x": 1}, _make, _build(calls))
    again, info2 = cache.cached_module("unit", {"x": 1}, _make, _build(calls))
    assert len(calls) == 1 and info == info2 and info["score"] == 0.5
    assert torch.equal(module.weight, again.weight) and again.weight[0, 0].item() == 1
    cache.cached_module("unit", {"x": 2}, _make, _build(calls))
    assert len(calls) == 2


def test_a_file_that_does_not_fit_the_module_is_reported_and_rebuilt():
    calls = []
    _, info = cache.cached_module("unit", {"x": 1}, _make, _build(calls))
    path = cache.path_for("unit", info["cache_key"])
    cache.save(path, {"state": {"weight": torch.zeros(5)}, "info": {}})
    with pytest.warns(cache.CorruptCacheWarning, match=path.name):
        cache.cached_module("unit", {"x": 1}, _make, _build(calls))
    assert len(calls) == 2 and cache.load(path)["state"]["weight"].shape == (2, 3)


def test_truncated_file_is_reported_and_removed():
    path = cache.path_for("unit", "abc")
    cache.save(path, {"state": {"w": torch.ones(100)}})
    path.write_bytes(path.read_bytes()[:50])
    with pytest.warns(cache.CorruptCacheWarning, match="unusable"):
        assert cache.load(path) is None
    assert not path.exists()


def test_bad_kind_is_an_error():
    with pytest.raises(ValueError, match="cache kind"):
        cache.path_for("../evil", "abc")


def test_save_leaves_no_part_behind_and_sweeps_those_of_killed_writers(tmp_path, monkeypatch):
    import os
    import socket
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    stale = tmp_path / f"model.pt.{host}.{dead.pid}.part"
    alive = tmp_path / f"other.pt.{host}.{os.getpid()}.part"
    remote = tmp_path / f"model.pt.another-host.{dead.pid}.part"
    for part in (stale, alive, remote):
        part.write_bytes(b"half")
    cache.save(tmp_path / "model.pt", {"x": torch.ones(1)})
    assert not stale.exists() and alive.exists() and remote.exists()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        cache.save(tmp_path / "model.pt", {"x": torch.zeros(1)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, remote.name, "model.pt"])
    assert torch.equal(cache.load(tmp_path / "model.pt")["x"], torch.ones(1))
