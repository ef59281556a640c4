"""Argument checks shared by the whole package: one place that says what a size, a seed or a choice may be.

Every public function validates its inputs with these *before* any expensive work, and the error names the
parameter and what is allowed (never a silent fallback).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` if it is an integer ≥ ``minimum`` (booleans and floats such as 2.0 are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        allowed = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def non_negative_int(name: str, value: Any) -> int:
    """``value`` if it is an integer ≥ 0."""
    return positive_int(name, value, minimum=0)


def positive_number(name: str, value: Any) -> float:
    """``value`` if it is a finite real number > 0 (not a boolean, not inf or nan)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not value > 0:
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")
    return value


def non_negative_number(name: str, value: Any) -> float:
    """``value`` if it is a finite real number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    return value


def seed(value: Any, name: str = "seed") -> int:
    """``value`` if it is an integer ≥ 0 (a seed: every random choice of a run derives from it)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__})")
    return value


def choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``, else a ValueError listing them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def positive_ints(name: str, values: Any) -> tuple[int, ...]:
    """A non-empty sequence of positive integers, as a tuple."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, got {values!r}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must be a non-empty sequence of positive integers, got an empty one")
    for value in values:
        positive_int(name, value)
    return values
