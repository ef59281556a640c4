"""The trainings chapter 2 needs (He et al. §3), enumerated — without running them — from the configuration its
figures and claims read, and the notebook's access to the trained models.

Each function of :data:`GROUPS` lists the DCNs (:class:`rdcn.he.inversion.DCN`) one figure or claim reads, at the
chapter's sizes; :func:`plan` turns their union into jobs (:mod:`rdcn.core.jobs`): the classifiers first (offline),
then the DCNs, each with its cache key, FLOPs per step and number of steps. :func:`table` adds an estimate of each
job's GPU time: its FLOPs over the useful FP32 throughput measured on a GPU by ``make bench DEVICE=cuda``
(``results/benchmarks.json``) where there is one, else over :data:`REFERENCE_GPU`'s.

:class:`Models` is what the notebook uses: at the ``smoke`` and ``book`` profiles it trains the plan's missing models
through the local runner first (the book stays one command); at ``paper`` it reads only, and a missing model is an
error naming the ``make train`` command. Every model it hands out must be in the plan (it says which were asked for).

From the shell (the Makefile's ``plan`` and ``train`` targets), at the run the ``RDCN_*`` variables name::

    python -m rdcn.he.training_plan plan            # the table and the total
    python -m rdcn.he.training_plan train           # RDCN_ENGINE=local|ray, RDCN_WORKERS=N (default: the CPUs)
"""
from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..core import checks, jobs, paths, profiles, random_weights
from ..core.runs import Run
from . import inversion
from . import trained_encoder as classifiers
from .inversion import DCN, LAYERS

CHAPTER = classifiers.CHAPTER
ARCHITECTURES = ("vgg16", "alexnet")
NOTEBOOK_WORKERS = 2  # the local runner's workers when a smoke or book notebook trains what it lacks


@dataclass(frozen=True)
class ReferenceGPU:
    """The GPU a plan's times are estimated for where no GPU benchmark was recorded."""

    name: str
    peak_flops: float  # FP32 FLOP/s
    fraction: float  # the share of the peak a DCN training step is assumed to reach

    @property
    def flops(self) -> float:
        return self.peak_flops * self.fraction


#: An assumption, stated: one NVIDIA H100 SXM, 67 TFLOP/s FP32 (no TF32 tensor cores counted), half of it useful.
REFERENCE_GPU = ReferenceGPU("NVIDIA H100 SXM (FP32 67 TFLOP/s, 50 % assumed useful)", 67e12, 0.5)


def _replicates(sizes) -> range:
    return range(sizes.replicates)


def fig5a(sizes) -> list[DCN]:
    """Fig. 5a: Conv2-DeConv2 of VGG16 and AlexNet on random and trained encoders, every replicate."""
    return [DCN(a, "conv2", kind, replicate=r) for a in ARCHITECTURES for kind in inversion.ENCODERS
            for r in _replicates(sizes)]


def generalization(sizes) -> list[DCN]:
    """Fig. 5's table: VGG16 ConvK-DeConvK for K = 1…5 and AlexNet Conv3, random and trained, every replicate."""
    vgg = [DCN("vgg16", layer, kind, replicate=r) for layer in LAYERS for kind in inversion.ENCODERS
           for r in _replicates(sizes)]
    return vgg + [DCN("alexnet", "conv3", kind, replicate=r) for kind in inversion.ENCODERS for r in _replicates(sizes)]


def width_knob(sizes) -> list[DCN]:
    """VGG16 Conv2, random and trained, at each of ``knob_widths`` (the chapter's own width is Fig. 5a's DCN)."""
    return [DCN("vgg16", "conv2", kind, replicate=r, width=None if w == sizes.width else w)
            for w in sizes.knob_widths for kind in inversion.ENCODERS for r in _replicates(sizes)]


def training_knob(sizes) -> list[DCN]:
    """VGG16 Conv2 on the classifier part-way through its training: 0 and each of ``classifier_snapshots``
    iterations (all of it is Fig. 5a's DCN). None at the paper profile (torchvision's training is not ours)."""
    if classifiers.on_imagenet(sizes):
        return []
    return [DCN("vgg16", "conv2", "trained", replicate=r, classifier_iterations=count)
            for count in (0, *sizes.classifier_snapshots) for r in _replicates(sizes)]


def sigma_sweep(sizes) -> list[DCN]:
    """Fig. 5b: VGG16 Conv2 on the raw features of Gaussian encoders of the paper's six σ, ``sigma_iterations``."""
    return [DCN("vgg16", "conv2", sigma=sigma, raw=True, replicate=r, iterations=sizes.sigma_iterations)
            for sigma in random_weights.GAUSSIAN_SIGMAS for r in _replicates(sizes)]


def distributions(sizes) -> list[DCN]:
    """Fig. 5c and Fig. 6: VGG16 Conv2 on natural photographs, random encoders of the four distributions."""
    photos = inversion.natural_domain(sizes)
    return [DCN("vgg16", "conv2", domain=photos, distribution=d, replicate=r) for d in random_weights.DISTRIBUTIONS
            for r in _replicates(sizes)]


def reconstructions(sizes) -> list[DCN]:
    """The photographs reconstructed from Conv1…Conv5 of random VGG16 and AlexNet (one replicate)."""
    return [DCN(a, layer, domain=inversion.natural_domain(sizes)) for a in ARCHITECTURES for layer in LAYERS]


GROUPS: dict[str, Callable[..., list[DCN]]] = dict(
    fig5a=fig5a, generalization=generalization, width_knob=width_knob, training_knob=training_knob,
    sigma_sweep=sigma_sweep, distributions=distributions, reconstructions=reconstructions)


def dcns(sizes) -> list[DCN]:
    """Every DCN of the chapter at ``sizes``, each once, in the order of :data:`GROUPS`."""
    return list(dict.fromkeys(dcn for group in GROUPS.values() for dcn in group(sizes)))


def classifier_widths(sizes) -> list[tuple[str, float | None]]:
    """(architecture, width) of every classifier the trained DCNs need (None: the chapter's width); none at paper."""
    if classifiers.on_imagenet(sizes):
        return []
    return list(dict.fromkeys((d.architecture, d.width) for d in dcns(sizes) if d.encoder == "trained"))


def plan(sizes, seed: int = 0, device: str = "cpu", data_dir: str = "", count_flops: bool = True) -> list[jobs.Job]:
    """The jobs that make every model of the chapter: classifiers, then DCNs (:func:`rdcn.core.jobs.order`), with
    their FLOPs per step where ``count_flops`` (the table needs them, training does not)."""
    needed = [classifiers.classifier_job(a, sizes, seed, device, w, count_flops) for a, w in classifier_widths(sizes)]
    return jobs.order(needed + [inversion.job(d, sizes, seed, device, data_dir, count_flops) for d in dcns(sizes)])


def gpu_flops() -> tuple[float, str]:
    """(useful FP32 FLOP/s, where the number comes from): the median useful throughput of the ``cuda`` rows of
    ``results/benchmarks.json`` (``make bench DEVICE=cuda``) where present, else :data:`REFERENCE_GPU`'s."""
    path = paths.benchmarks_file()
    try:
        rows = json.loads(path.read_text()).get("rows", [])
    except (OSError, ValueError, AttributeError):
        rows = []
    measured = sorted(float(r["useful_gflops"]) * 1e9 for r in rows
                      if isinstance(r, dict) and r.get("device") == "cuda" and r.get("useful_gflops"))
    if measured:
        return measured[len(measured) // 2], f"the median of {len(measured)} cuda benchmark rows in {path}"
    return REFERENCE_GPU.flops, REFERENCE_GPU.name


def table(planned: list[jobs.Job]) -> tuple[list[dict], dict]:
    """One row per job (label, key, steps, FLOPs per step, estimated GPU hours, whether it is cached) and the
    totals (jobs, missing, GPU hours, the longest chain of dependent jobs, where the throughput comes from)."""
    rate, origin = gpu_flops()
    hours = {job.key: job.steps * job.flops_per_step / rate / 3600 for job in planned}
    chain: dict[str, float] = {}
    for job in planned:  # in dependency order: the longest chain ending at each job
        chain[job.key] = hours[job.key] + max((chain.get(need, 0.0) for need in job.needs), default=0.0)
    rows = [dict(job=job.label, key=job.key, steps=job.steps, tflop_per_step=job.flops_per_step / 1e12,
                 gpu_hours=hours[job.key], cached=job.done()) for job in planned]
    totals = dict(jobs=len(planned), missing=sum(not job.done() for job in planned), gpu_hours=sum(hours.values()),
                  longest_chain_hours=max(chain.values(), default=0.0), throughput_flops=rate, throughput_from=origin)
    return rows, totals


def format_table(rows: list[dict], totals: dict) -> str:
    """The plan as text: one line per job, then the totals and what N GPUs would take."""
    lines = [f"{'training':<58} {'cache key':<29} {'steps':>8} {'TFLOP/step':>10} {'GPU h':>8}  cached"]
    for row in rows:
        lines.append(f"{row['job'][:58]:<58} {row['key']:<29} {row['steps']:>8,} {row['tflop_per_step']:>10.4f} "
                     f"{row['gpu_hours']:>8.2f}  {'yes' if row['cached'] else 'no'}")
    total, chain = totals["gpu_hours"], totals["longest_chain_hours"]
    lines.append(f"{totals['jobs']} trainings ({totals['missing']} not cached): {total:,.1f} GPU hours at "
                 f"{totals['throughput_flops'] / 1e12:.1f} TFLOP/s ({totals['throughput_from']})")
    lines.append("on N GPUs at least max(total / N, longest chain = " + f"{chain:.1f} h): " + ", ".join(
        f"N={n}: {max(total / n, chain):,.1f} h" for n in (1, 4, 8, 32)))
    return "\n".join(lines)


def train_command(run: Run) -> str:
    """The shell command that trains the models of chapter 2 at ``run``'s parameters."""
    args = [f"PROFILE={run.profile}"]
    if run.device != "cpu":
        args.append(f"DEVICE={run.device}")
    if run.seed:
        args.append(f"SEED={run.seed}")
    if run.data_dir:
        args.append(f"DATA_DIR={run.data_dir}")
    if run.sizes:
        args.append(f"SIZES='{run.sizes_json}'")
    return "make train " + " ".join(args) + " WORKERS=<N>"


class Models:
    """Chapter 2's trained models at one run (``sizes``: chapter 2's, resolved once by the caller).

    :meth:`prepare` makes sure every model of the plan is in the cache: at ``smoke``/``book`` it trains the missing
    ones with the local runner (:data:`NOTEBOOK_WORKERS` workers); at ``paper`` a missing model is a
    FileNotFoundError naming the ``make train`` command. :meth:`dcn` and :meth:`classifier` then read models (each
    once); every key handed out is in :attr:`requested`, so a test can check it against the plan."""

    def __init__(self, sizes, run: Run):
        self.sizes, self.run = sizes, run
        self.seed, self.device, self.data_dir = run.seed, run.device, run.data_dir
        self.requested: set[str] = set()
        self._loaded: dict[DCN, inversion.Inversion] = {}
        self._planned: set[str] | None = None

    def plan(self) -> list[jobs.Job]:
        return plan(self.sizes, self.seed, self.device, self.data_dir, count_flops=False)

    def _request(self, key: str, label: str) -> None:
        if self._planned is None:
            self._planned = {job.key for job in self.plan()}
        if key not in self._planned:
            raise ValueError(f"{label!r} is not among chapter 2's planned trainings (rdcn.he.training_plan.GROUPS): "
                             "add it to the group of the figure that reads it")
        self.requested.add(key)

    def prepare(self) -> dict[str, dict]:
        """Train (offline) or require (paper) every model of the plan; returns what the runner reported of each
        job by key (:func:`rdcn.core.jobs.run_local`)."""
        planned = self.plan()
        missing = [job for job in planned if not job.done()]
        if missing and classifiers.on_imagenet(self.sizes):
            raise FileNotFoundError(
                f"{len(missing)} of the {len(planned)} models of chapter 2 are not in the cache "
                f"({paths.cache_dir()}), e.g. {missing[0].label!r}: at the paper profile the notebook reads models "
                f"and never trains them; train them first with\n    {train_command(self.run)}")
        return jobs.run_local(planned, workers=NOTEBOOK_WORKERS)

    def dcn(self, dcn: DCN) -> inversion.Inversion:
        """The trained ``dcn`` (:func:`rdcn.he.inversion.load`)."""
        if dcn not in self._loaded:
            self._request(inversion.key(dcn, self.sizes, self.seed, self.device, self.data_dir), dcn.label)
            self._loaded[dcn] = inversion.load(dcn, self.sizes, self.seed, self.device, self.data_dir)
        return self._loaded[dcn]

    def classifier(self, architecture: str, width: float | None = None, iteration: int | None = None):
        """The trained encoder (:func:`rdcn.he.trained_encoder.trained_encoder`): ``(layers, encoder, info)``."""
        if not classifiers.on_imagenet(self.sizes):
            job = classifiers.classifier_job(architecture, self.sizes, self.seed, self.device, width, False)
            self._request(job.key, job.label)
        return classifiers.trained_encoder(architecture, self.sizes, self.device, self.seed, self.data_dir,
                                           width=width, iteration=iteration)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chapter 2's trainings: print the plan, or train what the cache "
                                                 "lacks (the run from the RDCN_* variables, as make exports them)")
    parser.add_argument("command", choices=("plan", "train"))
    parser.add_argument("--engine", default=os.environ.get("RDCN_ENGINE") or "local")
    parser.add_argument("--workers", default=os.environ.get("RDCN_WORKERS") or "",
                        help="worker processes (default: one per GPU with DEVICE=cuda, else one per CPU)")
    args = parser.parse_args(argv)
    engine = checks.choice("engine", args.engine, jobs.ENGINES)
    run = Run.from_environment()
    if not args.workers:
        args.workers = str(torch.cuda.device_count() if run.device == "cuda" else os.cpu_count() or 1)
    try:
        workers = int(args.workers)
    except ValueError:
        raise SystemExit(f"workers must be a positive integer, got {args.workers!r}") from None
    checks.positive_int("workers", workers)
    sizes = profiles.sizes(CHAPTER, run.profile, **run.overrides(CHAPTER))
    # Without a data folder the paper plan is still listed (sizes, FLOPs, GPU hours); only its cache keys, which
    # name the ImageNet folder, are unknown until DATA_DIR is given.
    keyless = args.command == "plan" and classifiers.on_imagenet(sizes) and not run.data_dir
    data_dir = "/DATA_DIR" if keyless else run.data_dir
    planned = plan(sizes, run.seed, profiles.check_device(run.device), data_dir, count_flops=args.command == "plan")
    if args.command == "plan":
        rows, totals = table(planned)
        if keyless:
            rows = [dict(row, key="(given DATA_DIR)", cached=False) for row in rows]
        print(format_table(rows, totals))
        if keyless:
            print("the cache keys name the ImageNet folder: pass DATA_DIR=… to see them (make train needs it)")
        return
    print(f"training the models of {len(planned)} planned that are not in {paths.cache_dir()} ({engine} engine, "
          f"{workers} workers)")
    if engine == "ray":
        report = jobs.run_ray(planned, workers=workers, gpus_per_job=1.0 if run.device == "cuda" else 0.0)
    else:
        report = jobs.run_local(planned, workers=workers)
    trained = [r for r in report.values() if r["status"] == "trained"]
    print(f"done: {len(trained)} trained ({sum(r['cpu_s'] for r in trained):,.0f} CPU seconds), "
          f"{len(report) - len(trained)} already cached")


if __name__ == "__main__":
    main()
