"""Shared test set-up: results and cache go to a temporary folder, never into the checkout's."""
import pytest


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch, request):
    if request.node.get_closest_marker("claims") is None:
        monkeypatch.setenv("RDCN_RESULTS_DIR", str(tmp_path / "results"))
        monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "cache"))
