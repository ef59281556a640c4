"""rdcn.core.jobs: ordering, locks, idempotence, and the local runner (in-process and on worker processes) with a
worker killed mid-training."""
import os
import threading
from pathlib import Path

import pytest
import torch
from interruption import kill_mid_training, model_tensors, same_tensors

from rdcn.core import cache, jobs, paths, profiles
from rdcn.he import inversion, trained_encoder
from rdcn.he.inversion import DCN

CHAPTER = "random_cnn_trained_dcn"


def _job(key, needs=(), function="builtins:print"):
    return jobs.Job(key, key, function, {}, needs)


def test_order_puts_needs_first_and_reports_cycles_and_unknown_needs():
    a, b, c = _job("c-1", ("a-1",)), _job("a-1"), _job("b-1", ("c-1",))
    assert [j.key for j in jobs.order([c, a, b])] == ["a-1", "c-1", "b-1"]
    with pytest.raises(ValueError, match="cycle"):
        jobs.order([_job("x-1", ("y-1",)), _job("y-1", ("x-1",))])
    with pytest.raises(ValueError, match="neither planned nor in the cache"):
        jobs.order([_job("x-1", ("missing-1",))])


def test_bad_jobs_are_clear_errors():
    with pytest.raises(ValueError, match="job key"):
        jobs.Job("a b", "label", "m:f")
    with pytest.raises(ValueError, match="package.module:function"):
        jobs.Job("key-1", "label", "module.function")
    with pytest.raises(ValueError, match="cannot be found"):
        jobs.resolve("rdcn.core.jobs:no_such_function")
    with pytest.raises(ValueError, match="workers"):
        jobs.run_local([], workers=-1)


def write_model(output: str, value: float) -> None:
    """A job function for these tests: writes a one-number model (after checking it runs on one thread)."""
    assert torch.get_num_threads() == 1
    cache.save(paths.cache_dir() / f"{output}.pt", dict(value=torch.tensor(value)))


def test_execute_is_idempotent_and_uses_one_thread():
    job = jobs.Job("toy-1", "toy", "test_jobs:write_model", dict(output="toy-1", value=1.0))
    threads = torch.get_num_threads()
    assert jobs.execute(job)["status"] == "trained" and torch.get_num_threads() == threads
    assert jobs.execute(job)["status"] == "cached"
    assert not (paths.cache_dir() / "toy-1.lock").exists()


def test_a_dead_holders_lock_is_taken_over_and_a_live_one_waited_for(monkeypatch):
    job = jobs.Job("toy-2", "toy", "test_jobs:write_model", dict(output="toy-2", value=2.0))
    lock = paths.cache_dir() / "toy-2.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    lock.write_text(f"{__import__('socket').gethostname()} {dead}")
    assert jobs.execute(job)["status"] == "trained"  # the holder's process is gone

    other = jobs.Job("toy-3", "toy", "test_jobs:write_model", dict(output="toy-3", value=3.0))
    held = paths.cache_dir() / "toy-3.lock"
    held.write_text(f"{__import__('socket').gethostname()} {os.getpid()}")  # a live holder: this very process
    monkeypatch.setattr(jobs, "POLL_S", 0.01)
    monkeypatch.setattr(jobs, "STALE_AFTER_S", 30.0)  # a broken test waits this long, not the default
    finish = lambda: (cache.save(paths.cache_dir() / "toy-3.pt", dict(value=torch.tensor(3.0))), held.unlink())  # noqa: E731
    threading.Timer(0.3, finish).start()
    assert jobs.execute(other)["status"] == "cached"  # it waited, then found the holder's model


def _small_sizes(**overrides):
    return profiles.sizes(CHAPTER, "smoke", **overrides)


def _plan(sizes):
    clf = trained_encoder.classifier_job("vgg16", sizes)
    dcns = [inversion.job(DCN("vgg16", "conv2", kind, replicate=r), sizes) for kind in ("random", "trained")
            for r in (0, 1)]
    return [clf] + dcns


def test_workers_give_the_weights_of_in_process_training(tmp_path, monkeypatch):
    """Dependencies first (the trained DCNs after their classifier), every model bit-identical to the one trained
    in this process: each job runs on one thread whichever runner runs it."""
    sizes = _small_sizes()
    planned = _plan(sizes)
    here = jobs.run_local(planned, workers=0, progress=False)
    assert [r["status"] for r in here.values()] == ["trained"] * len(planned)
    reference = {job.key: model_tensors(job) for job in planned}
    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "workers"))
    report = jobs.run_local(planned, workers=2, progress=False)
    assert all(r["status"] == "trained" for r in report.values())
    for job in planned:
        assert same_tensors(model_tensors(job), reference[job.key]), job.label
    assert all(r["status"] == "cached" for r in jobs.run_local(planned, workers=2, progress=False).values())


def test_a_killed_worker_is_replaced_and_its_job_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    sizes = _small_sizes(iterations=600, checkpoint_every=20)
    job = inversion.job(DCN("vgg16", "conv1"), sizes)
    jobs.run_local([job], workers=0, progress=False)
    reference = model_tensors(job)

    monkeypatch.setenv("RDCN_CACHE_DIR", str(tmp_path / "killed"))
    done_at_kill, outcome = kill_mid_training(job, lambda: jobs.run_local([job], workers=1, progress=False))
    assert 0 < done_at_kill < sizes.iterations
    assert outcome[job.key]["status"] == "trained"
    assert same_tensors(model_tensors(job), reference)


def test_a_corrupt_model_is_refused_and_trained_again():
    sizes = _small_sizes()
    job = inversion.job(DCN("vgg16", "conv1"), sizes)
    jobs.run_local([job], workers=0, progress=False)
    reference = model_tensors(job)
    Path(job.output).write_bytes(b"not a model")
    with pytest.warns(cache.CorruptCacheWarning, match=job.key), pytest.raises(FileNotFoundError, match="cache"):
        inversion.load(DCN("vgg16", "conv1"), sizes)
    assert not job.done()  # the corrupt file was deleted, so the runner trains it again
    assert jobs.run_local([job], workers=0, progress=False)[job.key]["status"] == "trained"
    assert same_tensors(model_tensors(job), reference)
