"""The one seeding scheme of the package: every random choice derives from the run's seed and a key.

``derive(seed, "width", "variant", 64, 3)`` is an integer seed drawn by numpy's ``SeedSequence(seed)`` spawned at
the CRC32 of the key's parts joined by ``/``: every experiment, setting and replicate has its own independent
stream, two runs with different seeds share none, and a rerun draws the same numbers. :func:`generator` wraps it
in a CPU ``torch.Generator``, :func:`derive_many` gives ``count`` seeds for ``count`` networks of one setting.
"""
from __future__ import annotations

import zlib

import numpy as np
import torch

from . import checks


def _spawn_key(key: tuple) -> tuple[int, ...]:
    return (zlib.crc32("/".join(map(str, key)).encode()),)


def derive_many(seed: int, count: int, *key) -> list[int]:
    """``count`` seeds for the members (networks, replicates) of the setting named by ``key``."""
    checks.seed(seed)
    checks.positive_int("count", count)
    return [int(s) for s in np.random.SeedSequence(seed, spawn_key=_spawn_key(key)).generate_state(count)]


def derive(seed: int, *key) -> int:
    """One seed for the random choice named by ``key`` (e.g. ``("dcn", "vgg16", "conv2", replicate)``)."""
    return derive_many(seed, 1, *key)[0]


def generator(seed: int, *key) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with :func:`derive` ``(seed, *key)``."""
    return torch.Generator().manual_seed(derive(seed, *key))
