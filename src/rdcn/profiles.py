"""Every size of every experiment, for the three profiles, in one place.

- ``smoke``: seconds; exercises every code path (the notebooks' nbval run).
- ``book``: the default; the scale the rendered book is built at on a 2-core CPU, where the papers' claims
  must already show.
- ``paper``: the papers' own scale (He et al. §3–§5, Gilbert et al. §4), for a GPU (``device="cuda"``).

A notebook asks for its chapter's sizes with :func:`sizes`; a researcher overrides any of them by keyword
(``sizes("random_cnn_random_dcn", "book", networks=10)``). Unknown chapters, profiles or size names, and
non-positive numbers, are errors that list what is allowed.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterator

PROFILES = ("smoke", "book", "paper")
DEVICES = ("cpu", "cuda")

_SIZES: dict[str, dict[str, dict[str, Any]]] = {
    # Chapter 1, He et al. §2: layer tables, Table 1, the four distributions, the cat teaser.
    "preliminaries": {
        "smoke": dict(table_size=227, draws=2_000, teaser_size=64, teaser_width=1.0),
        "book": dict(table_size=227, draws=200_000, teaser_size=227, teaser_width=1.0),
        "paper": dict(table_size=227, draws=1_000_000, teaser_size=227, teaser_width=1.0),
    },
    # Chapter 2, He et al. §3: random CNN, trained DCN.
    "random_cnn_trained_dcn": {
        "smoke": dict(image_size=32, width=0.125, iterations=4, batch=4, lr=1e-3),
        "book": dict(image_size=64, width=0.25, iterations=300, batch=16, lr=1e-3),
        "paper": dict(image_size=227, width=1.0, iterations=200_000, batch=32, lr=1e-4),
    },
    # Chapter 3, He et al. §4: random CNN, random DCN.
    "random_cnn_random_dcn": {
        "smoke": dict(image_size=32, widths=(4, 8), networks=2, images=2, kernel_sizes=(1, 3)),
        "book": dict(image_size=64, widths=(4, 8, 16, 32, 64, 128, 256), networks=10, images=10,
                     kernel_sizes=(1, 3, 5, 7, 9, 11)),
        "paper": dict(image_size=227, widths=(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048), networks=30,
                      images=50, kernel_sizes=(1, 3, 5, 7, 9, 11, 13, 15)),
    },
    # Chapter 4, He et al. §5 and Appendix A: the theory of random convolution.
    "theory": {
        "smoke": dict(image_size=16, angles=5, mc_samples=2_000, widths=(4, 16), networks=2),
        "book": dict(image_size=32, angles=13, mc_samples=200_000, widths=(4, 16, 64, 256), networks=10),
        "paper": dict(image_size=64, angles=25, mc_samples=2_000_000, widths=(4, 16, 64, 256, 1024, 4096),
                      networks=30),
    },
    # Chapter 5, Gilbert et al.: random filters as model-based compressive sensing.
    "compressive_sensing": {
        "smoke": dict(trials=20, rip_trials_2d=10, image_size=32, iht_iterations=2),
        "book": dict(trials=1000, rip_trials_2d=1000, image_size=64, iht_iterations=10),
        "paper": dict(trials=10_000, rip_trials_2d=1000, image_size=224, iht_iterations=50),
    },
}


class Sizes(Mapping):
    """The sizes of one chapter at one profile: a read-only mapping that also reads as attributes."""

    def __init__(self, chapter: str, profile: str, values: dict[str, Any]):
        self._chapter, self._profile, self._values = chapter, profile, dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(
                f"chapter {self._chapter!r} has no size {name!r}; its sizes are {sorted(self._values)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Sizes({self._chapter!r}, {self._profile!r}, {self._values})"


def chapters() -> tuple[str, ...]:
    """The chapters that have sizes (their names are also the names of their results files)."""
    return tuple(_SIZES)


def check_profile(profile: str) -> str:
    """Return ``profile`` if it is one of :data:`PROFILES`, else raise a ValueError listing them."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    return profile


def check_device(device: str) -> str:
    """Return ``device`` if it is usable here: ``cpu``, or ``cuda`` where torch sees a GPU."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was asked for but torch sees no GPU on this machine; use device='cpu'")
    return device


def _check_positive(chapter: str, name: str, value: Any) -> None:
    items = value if isinstance(value, (tuple, list)) else (value,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not item > 0:
            raise ValueError(f"size {name!r} of chapter {chapter!r} must be positive number(s), got {value!r}")


def sizes(chapter: str, profile: str = "book", **overrides: Any) -> Sizes:
    """Sizes of ``chapter`` at ``profile``, with ``overrides`` replacing named sizes.

    Raises ValueError for an unknown chapter, profile or size name (listing the allowed ones) and for a
    size that is not a positive number (or tuple of them).
    """
    if chapter not in _SIZES:
        raise ValueError(f"chapter must be one of {list(_SIZES)}, got {chapter!r}")
    check_profile(profile)
    values = dict(_SIZES[chapter][profile])
    unknown = sorted(set(overrides) - set(values))
    if unknown:
        raise ValueError(f"unknown size(s) {unknown} for chapter {chapter!r}; allowed: {sorted(values)}")
    values.update(overrides)
    for name, value in values.items():
        _check_positive(chapter, name, value)
    return Sizes(chapter, profile, values)
