"""The rules that decide a claim from measured numbers: three-state verdicts, fixed before looking at the numbers.

A rule reads named measurements and returns a :class:`Verdict`: ``holds``, ``does not hold`` or ``inconclusive``
(at this scale), with the statistic it computed and its 95 % interval. Comparisons and trends are decided on
*replicates* (seeds of networks, encoders, DCN initialisations): a rule given fewer than two replicates can only
say ``inconclusive``. Deterministic facts (a table that matches, a bound checked on every point) have two states.

The rules:

- :class:`Exact` — a deterministic check (a boolean measurement).
- :class:`Bound` — ``lower ≤ upper`` at every point, up to a rounding tolerance (deterministic).
- :class:`PairedDifference` — the mean paired difference ``a − b`` over replicates (optionally of logs, for ratios),
  with Student's t 95 % interval: holds if the interval lies on the claimed side of 0, does not hold if it lies on
  the other side, inconclusive if it contains 0.
- :class:`Trend` — Spearman's ρ between a setting ``x`` and a measurement ``y`` over every replicate point, with the
  Fisher-z 95 % interval (standard error √(1.06/(n − 3)), Fieller et al. 1957): holds if the interval is on the
  claimed side of 0, does not hold if on the other, inconclusive otherwise.
- :class:`Within` — a statistic (mean or median) of a sample with its bootstrap 95 % interval (scipy.stats.bootstrap,
  percentile, fixed seed) against a range: holds if the interval lies inside it, does not hold if outside,
  inconclusive if it straddles an edge.
- :class:`Spread` — the ratio of the largest to the smallest group mean (groups of replicates), bootstrap 95 %
  interval, against a factor: holds if the interval lies below it, does not hold if above.
- :class:`Slope` — the least-squares slope of ``y`` on ``x`` (log–log where asked) with its t 95 % interval, against
  a range.
- :class:`Equivalent` — per setting, Welch's 95 % interval of a difference of means within ±margin at every setting.
- :class:`TrendDifference` — one Spearman trend stronger than another (difference of Fisher z's, 95 % interval).
- :class:`AllOf` — a claim of several parts: holds if every part holds, does not hold if one does not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
STATES = (HOLDS, FAILS, INCONCLUSIVE)
LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Verdict:
    """A claim's verdict: its state, the statistic, its interval (None where deterministic) and one sentence."""

    state: str
    statistic: float | None
    interval: tuple[float, float] | None
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return dict(state=self.state, statistic=self.statistic,
                    interval=None if self.interval is None else list(self.interval), summary=self.summary)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _array(measured: dict, name: str) -> np.ndarray:
    if name not in measured:
        raise KeyError(f"the rule needs the measurement {name!r}; got {sorted(measured)}")
    return np.asarray(measured[name], dtype=float)


def _decide(low: float, high: float, claimed_low: float, claimed_high: float) -> str:
    """holds if [low, high] ⊂ [claimed_low, claimed_high], does not hold if they are disjoint, else inconclusive."""
    if claimed_low <= low and high <= claimed_high:
        return HOLDS
    if high < claimed_low or low > claimed_high:
        return FAILS
    return INCONCLUSIVE


def _too_few(n: int, what: str) -> Verdict:
    return Verdict(INCONCLUSIVE, None, None, f"only {n} {what}: too few to decide (never by one replicate)")


def _points(measured: dict, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) points of a trend or a fit, flattened: ``x`` may hold one value per row of ``y`` (settings ×
    replicates), repeated over the row."""
    x, y = _array(measured, x_name), _array(measured, y_name)
    if y.ndim == 2 and x.ndim == 1 and len(x) == len(y):
        x = np.repeat(x, y.shape[1])
    x, y = x.ravel(), y.ravel()
    if x.size != y.size:
        raise ValueError(f"{x_name} and {y_name} must have one value per point, got {x.size} and {y.size}")
    return x, y


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Spearman's ρ of the points and its Fisher z (ρ kept inside ±1); None with under 4 points or one x value."""
    if y.size < 4 or len(set(x.tolist())) < 2:
        return None
    rho = float(stats.spearmanr(x, y).statistic)
    return rho, math.atanh(max(min(rho, 1 - 1e-12), -1 + 1e-12))


def _all_of(states: list[str]) -> str:
    """Holds if every state holds, does not hold if one does not, inconclusive otherwise."""
    return HOLDS if all(s == HOLDS for s in states) else FAILS if FAILS in states else INCONCLUSIVE


@dataclass(frozen=True)
class Exact:
    """A deterministic check: the boolean measurement ``key``."""

    key: str = "holds"
    what: str = ""

    def describe(self) -> str:
        return f"deterministic: holds exactly when {self.what or self.key}"

    def decide(self, measured: dict) -> Verdict:
        ok = bool(measured[self.key])
        return Verdict(HOLDS if ok else FAILS, None, None, f"{self.what or self.key}: {'yes' if ok else 'no'}")


@dataclass(frozen=True)
class Bound:
    """``lower ≤ upper`` at every point (arrays of the same shape), up to ``tolerance`` of rounding."""

    lower: str
    upper: str
    tolerance: float = 1e-9

    def describe(self) -> str:
        return (f"deterministic: holds when {self.lower} ≤ {self.upper} at every point (up to {self.tolerance:g} of "
                "rounding)")

    def decide(self, measured: dict) -> Verdict:
        gap = _array(measured, self.upper) - _array(measured, self.lower)
        worst = float(gap.min())
        return Verdict(HOLDS if worst >= -self.tolerance else FAILS, worst, None,
                       f"smallest margin {self.upper} − {self.lower} = {_fmt(worst)} over {gap.size} points")


@dataclass(frozen=True)
class PairedDifference:
    """Mean over replicates of ``a − b`` (of ``log a − log b`` if ``log``), Student's t 95 % interval; the claim is
    ``a < b`` (``alternative="less"``) or ``a > b`` (``"greater"``)."""

    a: str
    b: str
    alternative: str = "less"
    log: bool = False

    def describe(self) -> str:
        diff = f"log {self.a} − log {self.b}" if self.log else f"{self.a} − {self.b}"
        side = "below" if self.alternative == "less" else "above"
        return (f"paired over replicates: the mean of {diff} with its Student-t 95 % interval; holds if the interval "
                f"lies {side} 0, does not hold if it lies on the other side, inconclusive if it contains 0")

    def decide(self, measured: dict) -> Verdict:
        a, b = _array(measured, self.a).ravel(), _array(measured, self.b).ravel()
        if a.shape != b.shape:
            raise ValueError(f"{self.a} and {self.b} must pair up, got {a.size} and {b.size} values")
        d = np.log(a) - np.log(b) if self.log else a - b
        if d.size < 2:
            return _too_few(d.size, "replicate")
        mean = float(d.mean())
        if np.all(d == d[0]):
            low = high = mean
        else:
            low, high = stats.ttest_1samp(d, 0.0).confidence_interval(LEVEL)
        claimed = (-math.inf, 0.0) if self.alternative == "less" else (0.0, math.inf)
        state = _decide(low, high, *claimed)
        if low == high == 0.0:
            state = INCONCLUSIVE
        name = "log ratio" if self.log else "difference"
        return Verdict(state, mean, (float(low), float(high)),
                       f"mean paired {name} {_fmt(mean)} (95 % CI {_fmt(low)} to {_fmt(high)}, {d.size} replicates)")


@dataclass(frozen=True)
class Trend:
    """Spearman's ρ of ``y`` against ``x`` over every point (replicates included), Fisher-z 95 % interval; the claim
    is an ``increasing`` or ``decreasing`` trend. ``x`` may hold one value per row of ``y`` (settings × replicates)."""

    x: str
    y: str
    direction: str = "increasing"

    def describe(self) -> str:
        side = "above" if self.direction == "increasing" else "below"
        return (f"Spearman's ρ of {self.y} against {self.x} over every replicate point, Fisher-z 95 % interval "
                f"(s.e. √(1.06/(n − 3))); holds if the interval lies {side} 0, does not hold if on the other side, "
                "inconclusive if it contains 0")

    def decide(self, measured: dict) -> Verdict:
        x, y = _points(measured, self.x, self.y)
        n = x.size
        fit = _spearman(x, y)
        if fit is None:
            return _too_few(n, "points")
        (rho, z), se = fit, math.sqrt(1.06 / (n - 3))
        q = stats.norm.ppf(0.5 + LEVEL / 2)
        low, high = math.tanh(z - q * se), math.tanh(z + q * se)
        claimed = (0.0, 1.0) if self.direction == "increasing" else (-1.0, 0.0)
        state = _decide(low, high, *claimed)
        return Verdict(state, rho, (low, high), f"Spearman ρ = {rho:.2f} (95 % CI {low:.2f} to {high:.2f}, {n} points)")


def _bootstrap(samples: tuple[np.ndarray, ...], statistic) -> tuple[float, float]:
    result = stats.bootstrap(samples, statistic, vectorized=False, paired=False, confidence_level=LEVEL,
                             n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                             rng=np.random.default_rng(BOOTSTRAP_SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


@dataclass(frozen=True)
class Within:
    """The ``statistic`` (``"mean"`` or ``"median"``) of the sample ``values`` with its bootstrap 95 % interval,
    against the range [``low``, ``high``]."""

    values: str
    low: float = -math.inf
    high: float = math.inf
    statistic: str = "median"

    def describe(self) -> str:
        return (f"the {self.statistic} of {self.values} with its bootstrap 95 % interval (percentile, "
                f"{BOOTSTRAP_RESAMPLES} resamples); holds if the interval lies within [{self.low:g}, {self.high:g}], "
                "does not hold if it lies outside, inconclusive if it straddles an edge")

    def decide(self, measured: dict) -> Verdict:
        values = _array(measured, self.values).ravel()
        if values.size < 2:
            return _too_few(values.size, "values")
        f = np.median if self.statistic == "median" else np.mean
        value = float(f(values))
        low, high = (value, value) if np.all(values == values[0]) else _bootstrap((values,), f)
        return Verdict(_decide(low, high, self.low, self.high), value, (low, high),
                       f"{self.statistic} {_fmt(value)} (95 % CI {_fmt(low)} to {_fmt(high)}, {values.size} values)")


@dataclass(frozen=True)
class Spread:
    """max/min of the group means of ``groups`` (a mapping name → replicate values), bootstrap 95 % interval, against
    ``factor``: the groups are "similar" if the whole interval lies below it."""

    groups: str
    factor: float

    def describe(self) -> str:
        return (f"the ratio of the largest to the smallest mean over the groups of {self.groups}, bootstrap 95 % "
                f"interval (resampling each group's replicates); holds if the interval lies below {self.factor:g}, "
                f"does not hold if it lies above, inconclusive if it contains {self.factor:g}")

    def decide(self, measured: dict) -> Verdict:
        groups = [np.asarray(v, float).ravel() for v in measured[self.groups].values()]
        if min(g.size for g in groups) < 2:
            return _too_few(min(g.size for g in groups), "replicates in a group")

        def ratio(*samples):
            means = [np.mean(s) for s in samples]
            return max(means) / min(means)

        value = float(ratio(*groups))
        low, high = _bootstrap(tuple(groups), ratio)
        return Verdict(_decide(low, high, 1.0, self.factor), value, (low, high),
                       f"max/min of the group means {value:.3g} (95 % CI {low:.3g} to {high:.3g})")


@dataclass(frozen=True)
class Slope:
    """The least-squares slope of ``y`` on ``x`` (both logged if ``loglog``) over every point, t 95 % interval
    (scipy.stats.linregress), against the range [``low``, ``high``]."""

    x: str
    y: str
    low: float
    high: float
    loglog: bool = True

    def describe(self) -> str:
        axes = "log y on log x" if self.loglog else "y on x"
        return (f"the least-squares slope of {axes} ({self.y} on {self.x}) over every point, with its Student-t 95 % "
                f"interval; holds if the interval lies within [{self.low:g}, {self.high:g}], does not hold if it "
                "lies outside, inconclusive otherwise")

    def decide(self, measured: dict) -> Verdict:
        x, y = _points(measured, self.x, self.y)
        if self.loglog:
            x, y = np.log(x), np.log(y)
        if x.size < 3 or len(set(x.tolist())) < 2:
            return _too_few(x.size, "points")
        fit = stats.linregress(x, y)
        q = stats.t.ppf(0.5 + LEVEL / 2, x.size - 2)
        low, high = fit.slope - q * fit.stderr, fit.slope + q * fit.stderr
        return Verdict(_decide(low, high, self.low, self.high), float(fit.slope), (float(low), float(high)),
                       f"slope {fit.slope:.3f} (95 % CI {low:.3f} to {high:.3f}, {x.size} points)")


@dataclass(frozen=True)
class Equivalent:
    """Per setting, the difference of the means of ``a`` and ``b`` (settings × replicates, two independent samples
    per setting) with Welch's t 95 % interval, against ±``margin``: holds if every setting's interval lies within
    [−margin, margin] (an intersection-union test, so no multiplicity correction), does not hold if some setting's
    interval lies wholly outside it, inconclusive otherwise. ``x`` optionally names the settings in the summary."""

    a: str
    b: str
    margin: float
    x: str = ""

    def describe(self) -> str:
        return (f"at every setting, the difference of the means of {self.a} and {self.b} with its Welch-t 95 % "
                f"interval; holds if every interval lies within ±{self.margin:g}, does not hold if some interval lies "
                "wholly outside, inconclusive otherwise")

    def decide(self, measured: dict) -> Verdict:
        a, b = np.atleast_2d(_array(measured, self.a)), np.atleast_2d(_array(measured, self.b))
        if len(a) != len(b):
            raise ValueError(f"{self.a} and {self.b} must have one row per setting, got {len(a)} and {len(b)}")
        if min(a.shape[1], b.shape[1]) < 2:
            return _too_few(min(a.shape[1], b.shape[1]), "replicates per setting")
        labels = list(np.ravel(measured[self.x])) if self.x else list(range(1, len(a) + 1))
        rows = []
        for label, ra, rb in zip(labels, a, b):
            mean = float(ra.mean() - rb.mean())
            if np.all(ra == ra[0]) and np.all(rb == rb[0]):
                low = high = mean
            else:
                low, high = stats.ttest_ind(ra, rb, equal_var=False).confidence_interval(LEVEL)
            rows.append((label, mean, float(low), float(high), _decide(low, high, -self.margin, self.margin)))
        states = [row[-1] for row in rows]
        state = _all_of(states)
        label, mean, low, high, _ = max(rows, key=lambda row: max(abs(row[2]), abs(row[3])))
        where = f"{self.x} = {label}" if self.x else f"setting {label} of {len(rows)}"
        return Verdict(state, mean, (low, high),
                       f"widest-reaching interval at {where}: {self.a} − {self.b} = {_fmt(mean)} (95 % CI {_fmt(low)} "
                       f"to {_fmt(high)}); {states.count(HOLDS)} of {len(rows)} settings within ±{self.margin:g}")


@dataclass(frozen=True)
class TrendDifference:
    """Spearman's ρ of ``a`` against ``x`` minus Spearman's ρ of ``b`` against ``x`` (each over every replicate
    point; two independent samples), as a difference of Fisher z's with its 95 % interval (s.e.
    √(1.06/(n_a − 3) + 1.06/(n_b − 3))): the claim is that ``a``'s trend in ``direction`` is stronger than ``b``'s."""

    x: str
    a: str
    b: str
    direction: str = "increasing"

    def describe(self) -> str:
        return (f"Spearman's ρ of {self.a} and of {self.b} against {self.x}, each over every replicate point; the "
                f"difference of their Fisher z's ({self.direction} trends counted positive) with its 95 % interval "
                f"(s.e. √(1.06/(n_a − 3) + 1.06/(n_b − 3))); holds if the interval lies above 0, does not hold if "
                "below, inconclusive if it contains 0")

    def decide(self, measured: dict) -> Verdict:
        rhos, z, sizes = [], [], []
        sign = 1.0 if self.direction == "increasing" else -1.0
        for name in (self.a, self.b):
            xs, y = _points(measured, self.x, name)
            fit = _spearman(xs, y)
            if fit is None:
                return _too_few(y.size, f"points of {name}")
            rhos.append(fit[0])
            z.append(sign * fit[1])
            sizes.append(y.size)
        diff, se = z[0] - z[1], math.sqrt(sum(1.06 / (n - 3) for n in sizes))
        q = stats.norm.ppf(0.5 + LEVEL / 2)
        low, high = diff - q * se, diff + q * se
        return Verdict(_decide(low, high, 0.0, math.inf), diff, (low, high),
                       f"ρ = {rhos[0]:.2f} for {self.a} ({sizes[0]} points), {rhos[1]:.2f} for {self.b} ({sizes[1]} "
                       f"points); Fisher-z difference {diff:.2f} (95 % CI {low:.2f} to {high:.2f})")


@dataclass(frozen=True)
class AllOf:
    """A claim made of several parts, each decided by its own rule on the same measurements: holds if every part
    holds, does not hold if some part does not hold, inconclusive otherwise."""

    parts: tuple

    def __post_init__(self):
        if not self.parts or not all(isinstance(p, RULES) and not isinstance(p, AllOf) for p in self.parts):
            raise TypeError("AllOf needs one or more parts, each a rule of RULES other than AllOf")

    def describe(self) -> str:
        return "every part holds: " + "; and ".join(part.describe() for part in self.parts)

    def decide(self, measured: dict) -> Verdict:
        verdicts = [part.decide(measured) for part in self.parts]
        return Verdict(_all_of([v.state for v in verdicts]), None, None,
                       "; ".join(f"{v.summary}: {v.state}" for v in verdicts))


RULES = (Exact, Bound, PairedDifference, Trend, Within, Spread, Slope, Equivalent, TrendDifference, AllOf)
__all__ = ["Verdict", "STATES", "HOLDS", "FAILS", "INCONCLUSIVE", *[r.__name__ for r in RULES]]
