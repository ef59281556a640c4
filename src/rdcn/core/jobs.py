"""Trainings as jobs, and the runners that execute them: how the papers' many independent trainings (He et al.
§3.1: one DCN per layer, encoder and distribution, each 200,000 iterations at the paper's scale) are spread over
processes here and, by the same description, over a cluster.

A :class:`Job` is a picklable description of one training: its ``key`` (the name of the model file it writes into
the shared cache folder, :func:`rdcn.core.paths.cache_dir`), a label, the function that trains it
(``"package.module:function"``, called with the JSON-like ``kwargs``), the keys of the jobs whose models it needs
first, and its FLOPs per step and number of steps (for plans). The job's function owns its model: it writes it
atomically (:func:`rdcn.core.cache.save`) and resumes from its own checkpoint if it was interrupted.

:func:`execute` is what every runner calls for one job, in whatever process runs it:

- **idempotent**: a job whose model is in the cache is not run again;
- **exclusive**: it holds a lock file beside the model (``<key>.lock``, created with ``O_EXCL``, naming its host
  and process, its time stamp refreshed while it trains), so two workers never write the same key; a second worker
  waits for the first. A lock whose holder is gone — a process of this host that no longer exists, or a lock not
  refreshed for :data:`STALE_AFTER_S` seconds (a dead node of a cluster) — is taken over, and the job resumes from
  its checkpoint;
- **one torch thread** while it trains (the previous count is restored): a job gives the same weights whichever
  runner and however many workers ran it.

Runners, each executing the jobs whose models are missing, dependencies first, every job through :func:`execute`:

- :func:`run_local` (``ENGINE=local``, the default, embedded): on ``workers`` processes of this machine (or in this
  process with ``workers=0``); a worker that dies is replaced and its job resumed, up to ``retries`` times;
- :func:`run_ray` (``ENGINE=ray``): one Ray task per job (Moritz et al. 2018; ``num_cpus=1``, ``num_gpus`` one GPU
  per job where asked, ``max_retries``), started after the tasks of its needs, on a local cluster of ``workers`` CPUs
  that it starts and stops, or on a running cluster (``RAY_ADDRESS``: a laptop, a cluster, Slurm or Kubernetes
  through Ray's own launchers). Every task writes into the shared cache folder (a shared filesystem path on a
  cluster), which the runner passes to the workers with the rest of the run's environment.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks, paths

ENGINES = ("local", "ray")
#: The environment variables a job needs wherever it runs (the run, the cache folder, torch's hub, data checks).
JOB_ENVIRONMENT = ("RDCN_CACHE_DIR", "RDCN_RESULTS_DIR", "RDCN_BUILD_DIR", "RDCN_UNVERIFIED_WEIGHTS", "TORCH_HOME")
STALE_AFTER_S = 300.0  # a lock not refreshed for this long belongs to a dead holder
HEARTBEAT_S = 30.0  # how often a running job refreshes its lock
POLL_S = 0.5  # how often a job waiting for another worker's lock looks again


@dataclass(frozen=True)
class Job:
    """One training (see the module's note). ``kwargs`` must be picklable (JSON-like values)."""

    key: str
    label: str
    function: str
    kwargs: dict = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    flops_per_step: float = 0.0
    steps: int = 0

    def __post_init__(self):
        if not self.key or not self.key.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"job key must be a non-empty name of letters, digits, '-' and '_', got {self.key!r}")
        if self.function.count(":") != 1:
            raise ValueError(f"job function must be 'package.module:function', got {self.function!r}")
        checks.non_negative_int("steps", self.steps)

    @property
    def output(self) -> Path:
        """The model file the job writes (in the cache folder of this process's environment)."""
        return paths.cache_dir() / f"{self.key}.pt"

    def done(self) -> bool:
        return self.output.is_file()


def resolve(function: str) -> Callable[..., Any]:
    """The callable named ``"package.module:function"``."""
    module, _, name = function.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"job function {function!r} cannot be found: {error}") from None


def _lock_path(job: Job) -> Path:
    return job.output.with_name(f"{job.key}.lock")


def _holder_gone(lock: Path) -> bool:
    try:
        host, pid = lock.read_text().split()
        age = time.time() - lock.stat().st_mtime
    except (OSError, ValueError):
        return False  # being written or just removed: look again later
    if age > STALE_AFTER_S:
        return True
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _acquire(job: Job) -> bool:
    """Take the job's lock (True), or find it held by a live worker (False); a dead holder's lock is taken over."""
    lock = _lock_path(job)
    lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if not _holder_gone(lock):
                return False
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(handle, "w") as file:
            file.write(f"{socket.gethostname()} {os.getpid()}")
        return True
    return False


class _Heartbeat(threading.Thread):
    """Refreshes a lock's time stamp every :data:`HEARTBEAT_S` seconds until stopped."""

    def __init__(self, lock: Path):
        super().__init__(daemon=True)
        self.lock, self.stopped = lock, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_S):
            try:
                os.utime(self.lock)
            except OSError:
                return


def execute(job: Job) -> dict[str, Any]:
    """Run one job where it is (see the module's note). Returns its ``status`` — ``"cached"`` if its model was
    already there (or another worker wrote it meanwhile), ``"trained"`` if this call trained it — and the
    ``cpu_s`` and ``wall_s`` seconds this call spent on it."""
    import torch

    start, cpu = time.perf_counter(), time.process_time()

    def report(status: str) -> dict[str, Any]:
        return dict(status=status, cpu_s=time.process_time() - cpu, wall_s=time.perf_counter() - start)

    while not job.done():
        if not _acquire(job):
            time.sleep(POLL_S)
            continue
        lock, heartbeat, threads = _lock_path(job), None, torch.get_num_threads()
        try:
            if job.done():
                return report("cached")
            heartbeat = _Heartbeat(lock)
            heartbeat.start()
            torch.set_num_threads(1)
            resolve(job.function)(**job.kwargs)
            if not job.done():
                raise RuntimeError(f"job {job.label!r} returned without writing its model {job.output}")
            return report("trained")
        finally:
            torch.set_num_threads(threads)
            if heartbeat is not None:
                heartbeat.stopped.set()
            lock.unlink(missing_ok=True)
    return report("cached")


def order(jobs: Iterable[Job]) -> list[Job]:
    """The jobs (duplicates of a key dropped) with every job after the jobs it needs, otherwise in the given order.
    A need that is neither among the jobs nor in the cache, or a cycle, is an error naming the job."""
    unique: dict[str, Job] = {}
    for job in jobs:
        unique.setdefault(job.key, job)
    placed: dict[str, None] = {}

    def place(job: Job, path: tuple[str, ...]) -> None:
        if job.key in placed:
            return
        if job.key in path:
            raise ValueError(f"jobs need each other in a cycle: {' → '.join(path + (job.key,))}")
        for need in job.needs:
            if need in unique:
                place(unique[need], path + (job.key,))
            elif not (paths.cache_dir() / f"{need}.pt").is_file():
                raise ValueError(f"job {job.label!r} needs {need!r}, which is neither planned nor in the cache")
        placed[job.key] = None

    for job in unique.values():
        place(job, ())
    return [unique[key] for key in placed]


def step_flops(step: Callable[[str], None]) -> float:
    """FLOPs of one call of ``step(device)`` (one training step), counted by ``torch.utils.flop_counter`` with
    ``device="meta"`` (the default device while it runs, so that modules are made there too): shapes only, no
    arithmetic, so a paper-scale step is counted in milliseconds on any machine."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.device("meta"), counter:
        step("meta")
    return float(counter.get_total_flops())


class JobFailed(RuntimeError):
    """A job raised, or its worker died more often than the runner retries."""


def _worker_start(started) -> None:
    """A worker's set-up: one torch thread, and its own GPU where there are several (workers take them in turn:
    jobs on ``device="cuda"`` then run on that worker's GPU)."""
    import torch

    torch.set_num_threads(1)
    with started.get_lock():
        index, started.value = started.value, started.value + 1
    if torch.cuda.is_available():
        torch.cuda.set_device(index % torch.cuda.device_count())


def run_local(jobs: Iterable[Job], workers: int = 0, retries: int = 2, progress: bool = True
              ) -> dict[str, dict[str, Any]]:
    """Execute the jobs whose models are missing (see the module's note): with ``workers`` = 0 one after another in
    this process, else on that many worker processes (started with ``spawn``), each job once its needs are done.
    A worker that dies (killed, out of memory) is replaced and its job started again — resuming from its checkpoint
    — up to ``retries`` times. Returns, by key, what :func:`execute` reported of each job (``status``
    ``"trained"`` or ``"cached"``, ``cpu_s``, ``wall_s``)."""
    from tqdm.auto import tqdm

    checks.non_negative_int("workers", workers)
    checks.non_negative_int("retries", retries)
    planned = order(jobs)
    status = {job.key: dict(status="cached", cpu_s=0.0, wall_s=0.0) for job in planned if job.done()}
    pending = [job for job in planned if job.key not in status]
    bar = tqdm(total=len(pending), desc="trainings", disable=not progress or not pending, leave=False)
    try:
        if workers == 0:
            for job in pending:
                bar.set_postfix_str(job.label)
                status[job.key] = _run_here(job)
                bar.update()
            return status
        _run_pool(pending, workers, retries, status, bar)
        return status
    finally:
        bar.close()


def _run_here(job: Job) -> dict[str, Any]:
    try:
        return execute(job)
    except Exception as error:
        raise JobFailed(f"training {job.label!r} failed: {error}") from error


@contextlib.contextmanager
def _quiet_workers():
    """``TQDM_DISABLE=1`` in the environment the workers inherit: the runner shows one bar, theirs would interleave."""
    before = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = before


def _run_pool(pending: list[Job], workers: int, retries: int, status: dict[str, dict], bar) -> None:
    import multiprocessing

    deaths: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    started = context.Value("i", 0)
    while pending:
        lost: list[Job] = []
        with _quiet_workers(), ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start,
                                                   initargs=(started,)) as pool:
            running: dict[Any, Job] = {}
            while (pending or running) and not lost:
                for job in list(pending):
                    if len(running) >= workers:
                        break
                    if all(need in status or (paths.cache_dir() / f"{need}.pt").is_file() for need in job.needs):
                        pending.remove(job)
                        running[pool.submit(execute, job)] = job
                if not running:
                    raise JobFailed(f"no job can start: {[job.label for job in pending]} wait for models never made")
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = running.pop(future)
                    try:
                        status[job.key] = future.result()
                    except BrokenProcessPool:
                        lost.append(job)
                        continue
                    except Exception as error:
                        pool.shutdown(wait=False, cancel_futures=True)
                        raise JobFailed(f"training {job.label!r} failed: {error}") from error
                    bar.set_postfix_str(job.label)
                    bar.update()
            lost += running.values()  # a worker died: the jobs of this pool start again on a new one
        for job in lost:
            deaths[job.key] = deaths.get(job.key, 0) + 1
            if deaths[job.key] > retries:
                raise JobFailed(f"a worker died while training {job.label!r}, {deaths[job.key]} times")
        pending[:0] = lost


def _task(job: Job, *needs: dict) -> dict[str, Any]:
    """A Ray task: :func:`execute` of ``job`` (``needs``, the reports of the tasks it waited for, are unused)."""
    return execute(job)


def run_ray(jobs: Iterable[Job], workers: int = 0, retries: int = 2, address: str = "", gpus_per_job: float = 0.0,
            progress: bool = True) -> dict[str, dict[str, Any]]:
    """Execute the jobs whose models are missing as Ray tasks (see the module's note): with ``address`` empty (and
    no ``RAY_ADDRESS`` in the environment) on a local cluster of ``workers`` CPUs (all of them if 0) started here and
    stopped at the end, else on the running cluster at ``address``. A task whose worker dies (killed, preempted,
    out of memory) is retried up to ``retries`` times and resumes from its checkpoint; a job that raises fails the
    run (:class:`JobFailed`). Returns the reports of :func:`execute` by key, as :func:`run_local` does."""
    import ray
    from tqdm.auto import tqdm

    checks.non_negative_int("workers", workers)
    checks.non_negative_int("retries", retries)
    planned = order(jobs)
    status = {job.key: dict(status="cached", cpu_s=0.0, wall_s=0.0) for job in planned if job.done()}
    pending = [job for job in planned if job.key not in status]
    if not pending:
        return status
    environment = {name: os.environ[name] for name in JOB_ENVIRONMENT if os.environ.get(name)}
    environment.update(RDCN_CACHE_DIR=str(paths.cache_dir()), TQDM_DISABLE="1", OMP_NUM_THREADS="1")
    address = address or os.environ.get("RAY_ADDRESS", "")
    started = not ray.is_initialized()
    if started:
        ray.init(address=address or None, num_cpus=None if address or not workers else workers,
                 include_dashboard=False, logging_level="ERROR")
    try:
        task = ray.remote(num_cpus=1, num_gpus=gpus_per_job, max_retries=retries,
                          runtime_env={"env_vars": environment})(_task)
        futures: dict[str, Any] = {}
        for job in pending:
            futures[job.key] = task.remote(job, *[futures[need] for need in job.needs if need in futures])
        labels = {ref: job.label for job, ref in zip(pending, futures.values())}
        keys = {ref: key for key, ref in futures.items()}
        remaining = list(futures.values())
        with tqdm(total=len(remaining), desc="trainings (ray)", disable=not progress, leave=False) as bar:
            while remaining:
                done, remaining = ray.wait(remaining, num_returns=1)
                try:
                    status[keys[done[0]]] = ray.get(done[0])
                except Exception as error:  # the job raised, or its worker died more often than retried
                    raise JobFailed(f"training {labels[done[0]]!r} failed on Ray: {error}") from error
                bar.update()
        return status
    finally:
        if started:
            ray.shutdown()
