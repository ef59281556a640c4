"""Shared steps of the runner tests: a job's model as its tensors, their comparison, and killing the worker process
that trains a job, mid-training."""
import os
import signal
import threading
import time

import torch

from rdcn.core import cache


def _tensors(value, prefix: str = "") -> dict[str, torch.Tensor]:
    if isinstance(value, dict):
        return {name: t for key, item in value.items() for name, t in _tensors(item, f"{prefix}{key}.").items()}
    return {prefix: value} if isinstance(value, torch.Tensor) else {}


def model_tensors(job) -> dict[str, torch.Tensor]:
    """Every tensor of the job's model file (weights, buffers, snapshots), by its path in the payload."""
    return _tensors(cache.load(job.output))


def same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    """The same tensors under the same names, bit for bit (the same code on one thread, run twice)."""
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def kill_mid_training(job, run) -> tuple[int, dict]:
    """Start ``run()`` (a runner on ``[job]``, returning its reports) in a thread, SIGKILL the process that holds the
    job's lock once the job has written a checkpoint, and wait for the runner. Returns the iteration the checkpoint
    held at the kill and the runner's reports."""
    checkpoint = cache.path_for("checkpoint", job.key.removeprefix("dcn-"))
    lock = checkpoint.parent / f"{job.key}.lock"
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(run()))
    runner.start()
    deadline = time.time() + 300
    while not checkpoint.is_file() and time.time() < deadline:
        time.sleep(0.01)
    assert checkpoint.is_file(), "the worker never wrote a checkpoint"
    os.kill(int(lock.read_text().split()[1]), signal.SIGKILL)
    done_at_kill = int(torch.load(checkpoint, weights_only=True)["iteration"])
    runner.join(timeout=300)
    assert not checkpoint.exists(), "the resumed job left its checkpoint behind"
    return done_at_kill, outcome
