"""A shared step of the runner tests: kill the worker process that trains a job, mid-training."""
import os
import signal
import threading
import time

import torch

from rdcn.core import cache


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
