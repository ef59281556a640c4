"""Chapter 2's plan on a distributed engine (rdcn.core.jobs.run_ray): a local Ray cluster of two CPU workers, started
and stopped by the tests, trains the smoke plan into a cache folder; the models, and the chapter's results read from
them, are identical to the in-process run's; a task whose worker is killed mid-training is retried and resumes from
its checkpoint; a corrupt model in the cache is refused and trained again.

``make distributed`` runs these (marker ``distributed``; they need the ``ray`` package and the rdcn kernel).
"""
import json
from pathlib import Path

import pytest
from interruption import kill_mid_training, model_tensors, same_tensors

from rdcn import book
from rdcn.core import cache, jobs, paths, profiles
from rdcn.core.runs import Run
from rdcn.he import inversion, training_plan
from rdcn.he.inversion import DCN

pytestmark = pytest.mark.distributed
ray = pytest.importorskip("ray")
CHAPTER = "random_cnn_trained_dcn"


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of two CPU workers for the module's tests, stopped at the end."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {"TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def _chapter_results(cache_dir: Path, where: Path, monkeypatch) -> dict:
    """Chapter 2 executed at the smoke profile, reading its models from ``cache_dir``; its numbers and verdicts."""
    monkeypatch.setenv("RDCN_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("RDCN_RESULTS_DIR", str(where / "results"))
    monkeypatch.setenv("RDCN_BUILD_DIR", str(where / "build"))
    run = Run.of("smoke")
    book.execute(run, chapter="02")
    saved = json.loads((run.results_dir / f"{CHAPTER}.json").read_text())
    return dict(numbers=saved["numbers"], verdicts={k: v["verdict"] for k, v in saved["claims"].items()})


def test_the_smoke_plan_on_ray_gives_the_in_process_models_and_results(cluster, tmp_path, monkeypatch):
    sizes = profiles.sizes(CHAPTER, "smoke")
    planned = training_plan.plan(sizes, 0, "cpu", "", count_flops=False)
    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "here"))
    here = jobs.run_local(planned, workers=0, progress=False)
    reference = {job.key: model_tensors(job) for job in planned}
    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "ray"))
    report = jobs.run_ray(planned, progress=False)
    assert [r["status"] for r in report.values()] == [r["status"] for r in here.values()] == ["trained"] * len(planned)
    for job in planned:
        assert same_tensors(model_tensors(job), reference[job.key]), job.label
    assert all(r["status"] == "cached" for r in jobs.run_ray(planned, progress=False).values())  # idempotent
    assert not list((tmp_path / "ray").glob("*.lock")) and not list((tmp_path / "ray").glob("*.part"))

    in_process = _chapter_results(tmp_path / "here", tmp_path / "a", monkeypatch)
    on_ray = _chapter_results(tmp_path / "ray", tmp_path / "b", monkeypatch)
    assert on_ray == in_process


def test_a_killed_task_is_retried_and_resumes_from_its_checkpoint(cluster, tmp_path, monkeypatch):
    sizes = profiles.sizes(CHAPTER, "smoke", iterations=600, checkpoint_every=20)
    job = inversion.job(DCN("vgg16", "conv1"), sizes)
    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "here"))
    jobs.run_local([job], workers=0, progress=False)
    reference = model_tensors(job)

    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "ray"))
    done_at_kill, outcome = kill_mid_training(job, lambda: jobs.run_ray([job], retries=2, progress=False))
    assert 0 < done_at_kill < sizes.iterations
    assert outcome[job.key]["status"] == "trained"
    assert same_tensors(model_tensors(job), reference)


def test_a_corrupt_model_is_refused_and_trained_again_on_ray(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path))
    sizes = profiles.sizes(CHAPTER, "smoke")
    job = inversion.job(DCN("vgg16", "conv1"), sizes)
    jobs.run_ray([job], progress=False)
    reference = model_tensors(job)
    Path(job.output).write_bytes(b"not a model")
    with pytest.warns(cache.CorruptCacheWarning, match=job.key), pytest.raises(FileNotFoundError, match="cache"):
        inversion.load(DCN("vgg16", "conv1"), sizes)
    assert jobs.run_ray([job], progress=False)[job.key]["status"] == "trained"
    assert same_tensors(model_tensors(job), reference)
    assert paths.cache_dir() == tmp_path
