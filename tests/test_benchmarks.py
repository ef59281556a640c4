"""benchmarks/bench.py (``make bench``): the harness's rows, table and JSON, on small workloads."""
import functools
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from rdcn.core import architectures

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/bench.py` sees its neighbours
spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
bench = sys.modules["bench"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

ROW_KEYS = {"workload", "unit", "device", "time_per_unit_s", "repeats", "flops_per_unit", "useful_gflops",
            "fraction_of_peak", "baseline", "speedup_vs_baseline"}


def test_a_row_derives_throughput_and_speedup():
    entry = bench.row("w", "step", "cpu", seconds=0.5, repeats=3, flops_per_unit=2e9, baseline="old",
                      baseline_seconds=1.5)
    assert set(entry) == ROW_KEYS
    assert entry["useful_gflops"] == pytest.approx(4.0)
    assert entry["speedup_vs_baseline"] == pytest.approx(3.0)
    assert entry["baseline"] == {"path": "old", "time_per_unit_s": 1.5}
    plain = bench.row("w", "image", "cpu", seconds=0.1, repeats=1)
    assert plain["useful_gflops"] is None and plain["baseline"] is None and plain["speedup_vs_baseline"] is None


def test_flops_counts_what_the_fused_decoder_multiplies():
    """A ×2 zero-fill upsampling then a 3×3 conv: the fused path multiplies each input value by each tap once,
    a quarter of what the literal path multiplies."""
    layers = (architectures.Conv("conv1", 3, 4, 3), architectures.Pool("pool1", 2, 2, ceil_mode=True))
    z = torch.rand(1, 4, 8, 8)
    counts = {}
    for fused in (True, False):
        decoder = architectures.build_decoder(layers, fused=fused)
        counts[fused] = bench.flops(functools.partial(decoder, z, (16, 16)))
    assert counts[False] == 2 * 3 * 4 * 9 * 16 * 16
    assert counts[True] == 2 * 3 * 4 * 9 * 8 * 8


def test_a_run_measures_the_peak_twice_and_fills_the_fraction(monkeypatch, capsys):
    peaks = iter([100.0, 120.0])
    monkeypatch.setattr(bench, "matmul_gflops", lambda _: next(peaks))

    def workload(b):
        return [bench.row("tiny", "call", b.device, b.time(lambda: torch.ones(8).sum()), b.repeats, 6e9),
                bench.row("unscored", "call", b.device, 1.0, b.repeats)]

    payload = bench.run(bench.Bench(repeats=2), [workload])
    assert payload["matmul_gflops"] == 120.0 and payload["matmul_gflops_measured"] == [100.0, 120.0]
    first, second = payload["rows"]
    assert first["fraction_of_peak"] == pytest.approx(first["useful_gflops"] / 120.0)
    assert second["fraction_of_peak"] is None
    assert "tiny" in bench.table(payload) and "—" in bench.table(payload)


def test_make_bench_writes_the_json_atomically(monkeypatch, tmp_path):
    monkeypatch.setenv("RDCN_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(bench, "matmul_gflops", lambda _: 50.0)
    monkeypatch.setattr(bench, "WORKLOADS", [bench.ssim_scoring])
    monkeypatch.setattr(bench.Bench, "time", lambda self, call, units=1, warmup=1, repeats=None: 0.25 / units)
    bench.main(["--repeats", "1", "--device", "cpu"])
    payload = json.loads((tmp_path / "benchmarks.json").read_text())
    assert set(payload) == {"environment", "matmul_gflops", "matmul_gflops_measured", "rows"}
    assert [set(r) for r in payload["rows"]] == [ROW_KEYS, ROW_KEYS]
    assert payload["rows"][0]["speedup_vs_baseline"] == pytest.approx(1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["benchmarks.json"]  # no partial file left


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        bench.main(["--only", "nothing"])
    with pytest.raises(ValueError, match="--repeats must be a positive integer"):
        bench.main(["--repeats", "0"])
