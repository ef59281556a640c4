"""The book's workloads, timed: time per unit, useful GFLOP/s, its fraction of the machine's fp32 matmul peak
measured in the same run, and each new path against the old one measured in the same run (``make bench``).

Workloads (:data:`WORKLOADS`, each a function of a :class:`Bench`, returning rows):

- :func:`dcn_steps` — chapter 2's DCN training step (He et al. §3.1, Eq. 1: the encoder's features, the DCN,
  the summed squared error, Adam; batch 16, width 0.25) for VGG16 Conv1…Conv5 at 32 px and AlexNet Conv1…Conv5
  at 64 px, then larger steps (VGG16 Conv5 at 64 px, width 0.5; one step at 227 px, width 1.0, the paper's).
  New path: the step as training runs it — the fused decoder (zero-fill upsampling and conv as one strided
  transposed convolution), on features computed once per image where training holds them (the book's sets: the
  step plus its share of that pass); baseline: the literal decoder (``fused=False``) encoding every mini-batch.
- ``parallel_dcns`` (``benchmarks/parallel_dcns.py``) — chapter 2's many small DCNs through the local runner's
  one-thread workers against the one-at-a-time loop (its module says how).
- :func:`random_networks` — §4's random CNN-DCNs (rrVGG Conv1-DeConv1, N channels, 64 px): all networks as one
  batched program (:mod:`rdcn.he.batched`, fused), and one network at a time (fused); baseline: one network at
  a time with the literal decoder.
- :func:`ssim_scoring` — SSIM (Wang et al. 2004) of a batch by :func:`rdcn.core.metrics.structural_similarity`;
  baseline: scikit-image's ``structural_similarity``, one image at a time.
- :func:`iht` — chapter 5's IHT reconstructions (Gilbert et al. Algorithm 1, :func:`rdcn.gilbert.cnn_iht.reconstruct`)
  from pool1…pool4 of a random VGG16 at the book's width, 3 images of 64 px, 30 iterations; no baseline.

Useful FLOPs are those that do not multiply a structural zero: torch's ``FlopCounterMode`` counting the new path
(whose transposed convolutions skip the inserted zeros), forward and backward, the optimiser's element-wise
update not counted; on the meta device (shapes, no arithmetic) where the path allows it, else in its untimed
first run. The peak is the median of fp32 ``matmul`` timings of 2048² (8192² on a GPU) matrices,
measured before and after the workloads; the larger of the two is the run's ``matmul_gflops``.

``results/benchmarks.json`` (written atomically) holds:

- ``environment``: :func:`rdcn.core.results.environment` (Python, platform, threads, device, package versions);
- ``matmul_gflops``: the fp32 matmul peak of this run; ``matmul_gflops_measured``: [before, after];
- ``rows``: one per workload and setting, each with ``workload`` (what ran), ``unit`` (what one unit is),
  ``device``, ``time_per_unit_s`` (median over ``repeats`` timings), ``repeats``, ``flops_per_unit`` (useful
  FLOPs), ``useful_gflops``, ``fraction_of_peak`` (useful GFLOP/s / ``matmul_gflops``), ``baseline`` (an
  object: ``path``, what the old path is, and its ``time_per_unit_s``, measured in the same run) and
  ``speedup_vs_baseline`` (baseline time / new time); null where not applicable.

To add a workload (as ``benchmarks/parallel_dcns.py`` does, from a module beside this one): write
``def my_workload(bench: Bench) -> list[dict]`` that times the new path and the baseline with :meth:`Bench.time`
(it synchronises a GPU), counts one unit's useful FLOPs with :func:`flops` where they mean something, and returns
:func:`row` dicts; then add it to :data:`WORKLOADS`. ``bench.full`` says whether to run the larger settings,
``bench.device`` where to run.

Run: ``make bench`` (``DEVICE=cuda`` for a GPU: the device comes from ``RDCN_DEVICE``), or
``python benchmarks/bench.py [--device cuda] [--full] [--repeats R] [--only NAME …]``. The default run took 1 min 39 s
on an idle 2-core CPU (far longer while other work loads it); ``--full`` adds more repeats and larger settings.
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from parallel_dcns import parallel_dcns
from skimage.metrics import structural_similarity
from torch.utils.flop_counter import FlopCounterMode

from rdcn.core import architectures, checks, data, metrics, paths, profiles, random_weights, results, seeds, training
from rdcn.gilbert import cnn_iht
from rdcn.he import batched, inversion
from rdcn.he import random_reconstruction as rr


@dataclass
class Bench:
    """A run's settings: where (``device``), how many timings per median (``repeats``), whether the larger
    settings run (``full``)."""

    device: str = "cpu"
    repeats: int = 5
    full: bool = False

    def synchronize(self) -> None:
        if torch.device(self.device).type == "cuda":
            torch.cuda.synchronize(self.device)

    def time(self, call: Callable[[], object], units: int = 1, warmup: int = 1, repeats: int | None = None) -> float:
        """Median seconds per unit of ``call`` (which does ``units`` units), after ``warmup`` untimed calls."""
        for _ in range(warmup):
            call()
        timings = []
        for _ in range(self.repeats if repeats is None else repeats):
            self.synchronize()
            start = time.perf_counter()
            call()
            self.synchronize()
            timings.append((time.perf_counter() - start) / units)
        return statistics.median(timings)


def flops(call: Callable[[], object]) -> int:
    """The FLOPs torch's ``FlopCounterMode`` counts in one ``call`` (convolutions and matrix products, forward and
    backward)."""
    with FlopCounterMode(display=False) as counter:
        call()
    return counter.get_total_flops()


def row(workload: str, unit: str, device: str, seconds: float, repeats: int, flops_per_unit: float | None = None,
        baseline: str | None = None, baseline_seconds: float | None = None) -> dict:
    """One row of ``results/benchmarks.json`` (``fraction_of_peak`` is filled in once the peak is known)."""
    return dict(workload=workload, unit=unit, device=device, time_per_unit_s=seconds, repeats=repeats,
                flops_per_unit=flops_per_unit,
                useful_gflops=None if flops_per_unit is None else flops_per_unit / seconds / 1e9,
                fraction_of_peak=None,
                baseline=None if baseline is None else dict(path=baseline, time_per_unit_s=baseline_seconds),
                speedup_vs_baseline=None if baseline is None else baseline_seconds / seconds)


def matmul_gflops(bench: Bench) -> float:
    """fp32 matmul GFLOP/s: the median of ``bench.repeats`` products of two n×n matrices."""
    n = 8192 if torch.device(bench.device).type == "cuda" else 2048
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.rand(n, n, generator=generator).to(bench.device) for _ in range(2))
    return 2 * n**3 / bench.time(lambda: a @ b, warmup=2) / 1e9


# ---------------------------------------------------------------------------------------------------- chapter 2

#: (architecture, cut, image size, width, timed steps per repeat, profile): the book's configurations, then a larger
#: one; the profile's training set and iterations decide whether training holds the features (see :func:`_dcn_row`)
DCN_STEPS = [*(("vgg16", f"conv{k}", 32, 0.25, 4, "book") for k in range(1, 6)),
             *(("alexnet", f"conv{k}", 64, 0.25, 2, "book") for k in range(1, 6)),
             ("vgg16", "conv5", 64, 0.5, 1, "paper")]
#: the paper's size: one step timed (three with ``--full``)
DCN_PAPER_STEP = ("vgg16", "conv5", 227, 1.0, 1, "paper")
DCN_BATCH = 16
#: images of the timed feature pass (:func:`_dcn_row`)
FEATURE_PASS_IMAGES = 256


def dcn_step(architecture: str, layer: str, size: int, width: float, fused: bool, held: bool, device: str
             ) -> Callable:
    """One chapter-2 training step of the DCN inverting ``architecture``'s ``layer`` (a random Gaussian encoder
    with the paper's per-layer scale, its features divided by their RMS, as :mod:`rdcn.he.inversion` builds it;
    MSRA start; Adam at lr 10⁻³) on a fixed batch of :data:`DCN_BATCH` random images; ``held``: on features
    computed before (as training holds them, :class:`rdcn.core.training.EncodedImages`), else the encoder runs in
    the step."""
    encoder, images = _random_encoder(architecture, layer, size, width, DCN_BATCH)
    encoder = encoder.to(device)
    layers = architectures.cut(architectures.architecture(architecture, width=width), layer)
    decoder = training.msra_(architectures.build_decoder(layers, fused=fused), seeds.generator(0, "bench", "msra"))
    decoder = decoder.to(device)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    x = images.to(device)
    with torch.no_grad():
        features = encoder(x)

    def step() -> None:
        if held:
            z = features
        else:
            with torch.no_grad():
                z = encoder(x)
        loss = training.sse(decoder(z, x.shape[-2:]), x).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def _random_encoder(architecture: str, layer: str, size: int, width: float, n: int) -> tuple[torch.nn.Module,
                                                                                              torch.Tensor]:
    """Chapter 2's random encoder for the bench's ``architecture``/``layer`` (eval mode), and ``n`` random
    images."""
    layers = architectures.cut(architectures.architecture(architecture, width=width), layer)
    generator = seeds.generator(0, "bench", architecture, layer, size)
    images = torch.rand(n, 3, size, size, generator=generator)
    encoder, _ = inversion.unit_rms(inversion.random_encoder(architecture, layers, seed=0), images[:4])
    return encoder.eval(), images


def _repeated(call: Callable[[], object], times: int) -> None:
    for _ in range(times):
        call()


def _dcn_row(bench: Bench, architecture: str, layer: str, size: int, width: float, per_repeat: int, profile: str,
             repeats: int, warmup: int) -> dict:
    """New path: the step as training runs it at ``profile``'s training set and iterations — where training holds
    the features (the book's sets), the step on held features plus its share of the one feature pass over the set
    (the pass's time per image × images / iterations); else the fused step encoding its mini-batch. Baseline: the
    literal decoder encoding every mini-batch (the old step)."""
    sizes = profiles.sizes("random_cnn_trained_dcn", profile)
    layers = architectures.cut(architectures.architecture(architecture, width=width), layer)
    counted = inversion.step_flops(layers, size, DCN_BATCH, sizes.train_images, sizes.iterations)
    held = inversion.features_held(layers, size, DCN_BATCH, sizes.train_images, sizes.iterations)
    timed = {}
    for fused in (True, False):
        step = dcn_step(architecture, layer, size, width, fused, held and fused, bench.device)
        timed[fused] = bench.time(functools.partial(_repeated, step, per_repeat), per_repeat, warmup, repeats)
    if held:
        encoder, images = _random_encoder(architecture, layer, size, width, FEATURE_PASS_IMAGES)
        encoder = encoder.to(bench.device)
        per_image = bench.time(functools.partial(training.EncodedImages, encoder, images, bench.device,
                                                 FEATURE_PASS_IMAGES), FEATURE_PASS_IMAGES, warmup, repeats)
        timed[True] += per_image * sizes.train_images / sizes.iterations
    how = "features computed once" if held else "encoder in every step"
    name = f"ch2 DCN step: {architecture} {layer}, {size} px, width {width:g}, {how} ({profile} sizes)"
    return row(name, "training step", bench.device, timed[True], repeats, counted,
               "literal zero-fill decoder, encoder in every step", timed[False])


def dcn_steps(bench: Bench) -> list[dict]:
    rows = []
    for setting in DCN_STEPS:
        rows.append(report(_dcn_row(bench, *setting, bench.repeats, warmup=1)))
    # a paper-size step takes seconds: its first one is timed too (what a first call costs more is small beside it)
    rows.append(report(_dcn_row(bench, *DCN_PAPER_STEP, 3 if bench.full else 1, warmup=0)))
    return rows


# ---------------------------------------------------------------------------------------------------- chapter 3

def _random_network_rows(bench: Bench, width: int, layers: architectures.Layers, networks: int,
                         images: torch.Tensor) -> list[dict]:
    config = rr.variant_config("original")
    network_seeds = seeds.derive_many(0, networks, "bench", width)
    outputs = networks * len(images)
    calls = {
        "batched": functools.partial(batched.all_outputs, layers, network_seeds, images, device=bench.device,
                                     **config),
        "one at a time": functools.partial(batched.looped_outputs, layers, network_seeds, images,
                                           device=bench.device, **config),
        "literal": functools.partial(batched.looped_outputs, layers, network_seeds, images, device=bench.device,
                                     fused=False, **config),
    }
    repeats = 1 if width >= 256 else bench.repeats
    timed = {name: bench.time(call, outputs, repeats=repeats) for name, call in calls.items()}
    # one network on one image, on the meta device (shapes only: FLOPs without the arithmetic)
    counted = flops(functools.partial(batched.looped_outputs, layers, network_seeds[:1], images[:1].to("meta"),
                                      device="meta", **config))
    return [row(f"§4 random networks, {name} (fused): rrVGG Conv1-DeConv1 N={width}, {images.shape[-1]} px, "
                f"{networks} networks × {len(images)} images", "output (one network, one image)", bench.device,
                timed[name], repeats, counted, "one network at a time, literal zero-fill decoder", timed["literal"])
            for name in ("batched", "one at a time")]


def random_networks(bench: Bench) -> list[dict]:
    widths, networks, count = ((16, 64, 256, 1024), 30, 8) if bench.full else ((16, 64, 256), 10, 4)
    images = data.embedded_crops("all", 64, count, 0).batch(range(count)).to(bench.device)
    return [report(entry) for width, layers in rr.width_nets(widths).items()
            for entry in _random_network_rows(bench, width, layers, networks, images)]


# ------------------------------------------------------------------------------------------------------- SSIM

def _scikit_image_ssim(outputs, targets) -> list[float]:
    return [structural_similarity(y, x, **metrics.SSIM_OPTIONS) for y, x in zip(outputs, targets)]


def _ssim_row(bench: Bench, size: int, count: int) -> dict:
    photos = data.embedded_crops("all", size, count, 0).batch(range(count))
    noise = torch.rand(photos.shape, generator=seeds.generator(0, "bench", "ssim", size))
    target = metrics.minmax(metrics.luminance(photos)).to(bench.device)
    output = metrics.minmax(metrics.luminance((photos + 0.3 * noise).clamp(0, 1))).to(bench.device)
    ours = bench.time(functools.partial(metrics.structural_similarity, output, target), count)
    theirs = bench.time(functools.partial(_scikit_image_ssim, output.cpu().numpy(), target.cpu().numpy()), count)
    return row(f"SSIM (Wang et al.), {count} grayscale images of {size} px, float64", "image", bench.device, ours,
               bench.repeats, None, "scikit-image structural_similarity, one image at a time (CPU)", theirs)


def ssim_scoring(bench: Bench) -> list[dict]:
    settings = ((64, 64), (227, 16)) + (((512, 8),) if bench.full else ())
    return [report(_ssim_row(bench, size, count)) for size, count in settings]


# -------------------------------------------------------------------------------------------------- chapter 5

def iht(bench: Bench) -> list[dict]:
    sizes = profiles.sizes("compressive_sensing", "book")
    width = profiles.sizes("random_cnn_trained_dcn", "book").width
    layers = architectures.architecture("vgg16", width=width)
    encoder = random_weights.randomize_(architectures.build_encoder(layers), "gaussian", 0).to(bench.device).eval()
    x = data.embedded_crops("all", sizes.image_size, sizes.images, 0).batch(range(sizes.images)).to(bench.device)
    pools = [f"pool{k}" for k in range(1, 5)]

    def reconstructions() -> None:
        for pool in pools:
            cnn_iht.reconstruct(encoder, pool, x, sizes.iht_iterations)

    counted = flops(reconstructions)  # the untimed first run
    repeats = max(1, bench.repeats // 2)
    seconds = bench.time(reconstructions, warmup=0, repeats=repeats)
    name = (f"ch5 IHT (Gilbert et al. Alg. 1), pool1–pool4 of VGG16 width {width:g}, {sizes.images} images of "
            f"{sizes.image_size} px, {sizes.iht_iterations} iterations")
    return [report(row(name, "the four reconstructions", bench.device, seconds, repeats, counted))]


#: The workloads ``make bench`` runs, in order (add yours here; see the module's note).
WORKLOADS: list[Callable[[Bench], list[dict]]] = [dcn_steps, parallel_dcns, random_networks, ssim_scoring,
                                                  iht]


def report(entry: dict) -> dict:
    """Print one row as it is measured (the full table follows at the end); returns it."""
    print(f"  {entry['workload']}: {entry['time_per_unit_s'] * 1e3:.3g} ms per {entry['unit']}", flush=True)
    return entry


def _cell(value, format_: str) -> str:
    return "—" if value is None else format(value, format_)


def table(payload: dict) -> str:
    """The rows as a plain-text table."""
    lines = [f"fp32 matmul peak: {payload['matmul_gflops']:.1f} GFLOP/s ({payload['environment']['device']}, "
             f"{payload['environment']['threads']} threads)",
             f"{'workload':<92} {'ms/unit':>10} {'GFLOP/s':>8} {'of peak':>7} {'base ms':>10} {'speedup':>7}"]
    for r in payload["rows"]:
        base = r["baseline"]["time_per_unit_s"] * 1e3 if r["baseline"] else None
        lines.append(f"{r['workload'][:92]:<92} {r['time_per_unit_s'] * 1e3:>10.3g} "
                     f"{_cell(r['useful_gflops'], '8.1f'):>8} {_cell(r['fraction_of_peak'], '7.0%'):>7} "
                     f"{_cell(base, '10.3g'):>10} {_cell(r['speedup_vs_baseline'], '7.2f'):>7}")
    return "\n".join(lines)


def run(bench: Bench, workloads: list[Callable[[Bench], list[dict]]] = WORKLOADS) -> dict:
    """Measure the peak, every workload, the peak again; the payload of ``results/benchmarks.json``."""
    peaks = [matmul_gflops(bench)]
    print(f"fp32 matmul: {peaks[0]:.1f} GFLOP/s", flush=True)
    rows = []
    for workload in workloads:
        print(f"{workload.__name__}:", flush=True)
        rows += workload(bench)
    peaks.append(matmul_gflops(bench))
    peak = max(peaks)
    for entry in rows:
        if entry["useful_gflops"] is not None:
            entry["fraction_of_peak"] = entry["useful_gflops"] / peak
    return dict(environment=results.environment(bench.device), matmul_gflops=peak, matmul_gflops_measured=peaks,
                rows=rows)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=os.environ.get("RDCN_DEVICE") or "cpu",
                        help="cpu or cuda (default: $RDCN_DEVICE, else cpu)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per median (default 5)")
    parser.add_argument("--full", action="store_true", help="more repeats and larger settings")
    parser.add_argument("--only", nargs="+", choices=[w.__name__ for w in WORKLOADS], help="these workloads only")
    args = parser.parse_args(argv)
    bench = Bench(profiles.check_device(args.device), checks.positive_int("--repeats", args.repeats), args.full)
    chosen = [w for w in WORKLOADS if not args.only or w.__name__ in args.only]
    payload = run(bench, chosen)
    path = results.write_json(paths.benchmarks_file(), results.jsonable(payload))
    print(table(payload))
    print(f"written: {path}")
    return payload


if __name__ == "__main__":
    main()
