"""Batched random CNN-DCNs (rdcn.batched) against a plain one-network-at-a-time loop, on the same workload.

The workload is He et al. §4.2's: rrVGG Conv1-DeConv1 with N channels in every layer, ``--networks`` random networks
on ``--images`` images of ``--size`` pixels, for each N of ``--widths``; both paths draw every network's weights
from its own seed and compute every output (outputs/s = networks × images / seconds). Prints a table and writes
``benchmark_random_networks.json`` into ``rdcn.paths.results_dir()``. ``make bench`` runs it (``DEVICE=cuda`` for
a GPU).
"""
from __future__ import annotations

import argparse
import json

from rdcn.core import data, paths, profiles, results
from rdcn.he import batched
from rdcn.he import random_reconstruction as rr

DEFAULTS = {  # per device: widths, networks, images, size
    "cpu": dict(widths=(4, 16, 64, 256), networks=10, images=8, size=64),
    "cuda": dict(widths=(4, 16, 64, 256, 1024), networks=30, images=16, size=227),
}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=profiles.DEVICES, default="cpu")
    parser.add_argument("--widths", type=lambda s: tuple(int(w) for w in s.split(",")), default=None,
                        help="comma-separated widths N (default: per device)")
    parser.add_argument("--networks", type=int, default=None)
    parser.add_argument("--images", type=int, default=None)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    device = profiles.check_device(args.device)
    work = {**DEFAULTS[device], **{k: getattr(args, k) for k in ("widths", "networks", "images", "size")
                                   if getattr(args, k) is not None}}
    for name in ("networks", "images", "size"):
        if work[name] < 1:
            parser.error(f"--{name} must be a positive integer, got {work[name]}")
    if not work["widths"] or min(work["widths"]) < 1:
        parser.error(f"--widths must be positive integers, got {work['widths']}")

    images = data.embedded_crops("all", work["size"], work["images"], args.seed).batch(range(work["images"]))
    config = rr.variant_config("original")
    batched.speed(rr.width_nets((4,))[4], [0, 1], images[:2], device=device, **config)  # warm-up
    rows = []
    print(f"{'N':>6} {'batched out/s':>14} {'looped out/s':>13} {'ratio':>7}   ({device}, {work['networks']} networks "
          f"× {work['images']} images of {work['size']} px)")
    for width, layers in rr.width_nets(work["widths"]).items():
        seeds = rr.network_seeds(args.seed, work["networks"], "bench", width)
        report = batched.speed(layers, seeds, images, device=device, **config)
        rows.append(dict(width=width, **report))
        print(f"{width:>6} {report['batched_outputs_per_s']:>14.1f} {report['looped_outputs_per_s']:>13.1f} "
              f"{report['ratio']:>7.2f}", flush=True)
    payload = dict(benchmark="random_networks", workload=dict(work, network="rrVGG Conv1-DeConv1 (original)"),
                   environment=results.environment(device), rows=rows)
    folder = paths.results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "benchmark_random_networks.json"
    path.write_text(json.dumps(payload, indent=1))
    print(f"written: {path}")
    return payload


if __name__ == "__main__":
    main()
