"""Chapter 2's many small DCNs (He et al. §3.1), trained as the book trains them against the old way: a workload of
the benchmark harness (:mod:`bench`, which imports it and lists it in ``WORKLOADS``).

The unit is one DCN training iteration. The DCNs are the book's configurations (VGG16 Conv1…Conv5 at 32 px and
AlexNet Conv1…Conv5 at 64 px, width 0.25, batch 16, random Gaussian encoders), each trained for
:data:`ITERATIONS` iterations:

- new path: as chapter 2's jobs (:func:`rdcn.he.inversion.job`) on the local runner (:func:`rdcn.core.jobs.run_local`)
  with :data:`WORKERS` one-thread worker processes and the fused decoder, into a fresh cache folder — the runner's
  whole cost (starting the workers, making the images, the feature scale, the end-of-training evaluation on
  ``eval_images`` images, writing the models) included;
- baseline: the old loop, one DCN after another in this process on two threads with the literal zero-fill
  decoder, training only (no evaluation, nothing written).
"""
from __future__ import annotations

import os
import tempfile

import torch

from rdcn.core import architectures, jobs, profiles, seeds, training
from rdcn.he import inversion
from rdcn.he.inversion import DCN

WORKERS = 2
ITERATIONS = 60
CONFIGURATIONS = [*(("vgg16", f"conv{k}") for k in range(1, 6)), *(("alexnet", f"conv{k}") for k in range(1, 6))]


def _sizes():
    return profiles.sizes("random_cnn_trained_dcn", "book", iterations=ITERATIONS, eval_every=ITERATIONS,
                          checkpoint_every=ITERATIONS, eval_images=16, curve_images=16, train_images=512)


def _through_the_runner() -> None:
    sizes = _sizes()
    before = os.environ.get("RDCN_CACHE_DIR")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["RDCN_CACHE_DIR"] = folder
        try:
            planned = [inversion.job(DCN(a, layer), sizes, count_flops=False) for a, layer in CONFIGURATIONS]
            jobs.run_local(planned, workers=WORKERS, progress=False)
        finally:
            if before is None:
                os.environ.pop("RDCN_CACHE_DIR")
            else:
                os.environ["RDCN_CACHE_DIR"] = before


def _one_at_a_time() -> None:
    sizes = _sizes()
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for architecture, layer in CONFIGURATIONS:
            dcn = DCN(architecture, layer)
            train, held_out = inversion.image_sets(sizes, architecture, "domain")
            encoder, _ = inversion.unit_rms(inversion.encoder(dcn, sizes), train.first(inversion.SCALE_IMAGES))
            layers = architectures.cut(architectures.architecture(architecture, width=sizes.width), layer)
            training.train_dcn(encoder, architectures.build_decoder(layers, fused=False), train.images,
                               held_out.first(sizes.curve_images), inversion.schedule(dcn, sizes),
                               seeds.derive(0, "dcn", 0))
    finally:
        torch.set_num_threads(threads)


def parallel_dcns(bench) -> list[dict]:
    """The book's small DCNs through the runner (fused, :data:`WORKERS` one-thread workers) against the old
    one-at-a-time two-thread loop with the literal decoder, in DCN iterations."""
    from bench import report, row

    if torch.device(bench.device).type != "cpu":
        return []  # a CPU workload: the workers are processes of this machine's cores
    units = ITERATIONS * len(CONFIGURATIONS)
    new = bench.time(_through_the_runner, units, warmup=0, repeats=1)
    old = bench.time(_one_at_a_time, units, warmup=0, repeats=1)
    name = (f"ch2 small DCNs: the book's {len(CONFIGURATIONS)} configurations × {ITERATIONS} iterations through the "
            f"local runner, {WORKERS} one-thread workers, fused decoder")
    return [report(row(name, "DCN iteration", bench.device, new, 1, None,
                       "one DCN at a time, two threads, literal zero-fill decoder", old))]
