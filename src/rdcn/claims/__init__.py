"""The registry of every claim of the three papers that the book checks: one place for what is claimed and how it
is decided.

A :class:`Claim` holds the claim's id, its chapter, the paper and section it comes from, the paper's statement (in
our words), the :mod:`rule <rdcn.claims.rules>` that decides it from the measured numbers, where each threshold of
that rule comes from (the paper's, or ours), the profiles whose scale is designed to show it, and — for the others —
the scale knob along which the chapter shows its statistic. The rule and the design are fixed here, before any
number is measured; notebooks only supply measurements (:meth:`rdcn.notebook.Chapter.claim`), and the ledger
and ``tests/test_claims.py`` read this registry. No claim is exempted anywhere else. Where a rule or a design was
nevertheless changed after its numbers had been seen, ``revised`` says what and why, and the ledger shows it beside
the verdict: the reader weighs such a verdict accordingly.

The definitions live in one module per chapter (:mod:`.preliminaries`, :mod:`.random_cnn_trained_dcn`,
:mod:`.random_cnn_random_dcn`, :mod:`.theory`, :mod:`.compressive_sensing`), gathered here into :data:`REGISTRY`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import profiles
from . import rules
from .rules import Verdict

PAPERS = {
    "he": "He et al. (2018)",
    "shu": "Shu et al. (2017)",
    "gilbert": "Gilbert et al. (2017)",
}


@dataclass(frozen=True)
class Claim:
    """One claim of a paper and the rule that decides it (see the module's note)."""

    id: str
    chapter: str
    paper: str  # a key of PAPERS
    where: str  # the section, figure or equation it comes from, e.g. "§3.2, Fig. 5a"
    statement: str
    rule: Any  # one of rdcn.claims.rules.RULES
    thresholds: str  # where each threshold of the rule comes from: "the paper's …" or "ours: …"
    designed_for: tuple[str, ...] = ("book", "paper")
    knob: str = ""  # the scale knob the chapter varies where the profile is not designed to show the claim
    revised: str = ""  # what of the rule or design was changed after its numbers were seen, and why

    def __post_init__(self):
        profiles.check_chapter(self.chapter)
        if self.paper not in PAPERS:
            raise ValueError(f"claim {self.id}: paper must be one of {list(PAPERS)}, got {self.paper!r}")
        if not isinstance(self.rule, rules.RULES):
            raise TypeError(f"claim {self.id}: rule must be one of {[r.__name__ for r in rules.RULES]}")
        for profile in self.designed_for:
            profiles.check_profile(profile)
        if set(profiles.PROFILES) - {"smoke"} - set(self.designed_for) and not self.knob:
            raise ValueError(f"claim {self.id} is not designed for every profile: name its scale knob")

    def decide(self, measured: dict[str, Any]) -> Verdict:
        """The verdict of this claim's rule on ``measured``."""
        return self.rule.decide(measured)

    def along(self, measurements: list[dict[str, Any]]) -> list[Verdict]:
        """The rule's verdict on each of ``measurements`` (the claim along its scale knob: shown, not recorded)."""
        return [self.decide(measured) for measured in measurements]

    def describe(self) -> dict[str, Any]:
        """What the registry says of this claim, as stored beside its verdict."""
        return dict(paper=PAPERS[self.paper], where=self.where, statement=self.statement,
                    rule=self.rule.describe(), thresholds=self.thresholds, designed_for=list(self.designed_for),
                    knob=self.knob, revised=self.revised)


def _gather() -> dict[str, Claim]:
    from . import compressive_sensing, preliminaries, random_cnn_random_dcn, random_cnn_trained_dcn, theory

    registry: dict[str, Claim] = {}
    for module in (preliminaries, random_cnn_trained_dcn, random_cnn_random_dcn, theory, compressive_sensing):
        for claim in module.CLAIMS:
            if claim.id in registry:
                raise ValueError(f"claim id {claim.id!r} is registered twice")
            registry[claim.id] = claim
    return registry


REGISTRY: dict[str, Claim] = _gather()


def get(claim_id: str) -> Claim:
    """The registered claim ``claim_id`` (a KeyError listing the chapter's ids if unknown)."""
    if claim_id not in REGISTRY:
        raise KeyError(f"no claim {claim_id!r} in the registry; registered: {sorted(REGISTRY)}")
    return REGISTRY[claim_id]


def of_chapter(chapter: str) -> list[Claim]:
    """The registered claims of ``chapter``, in registration order."""
    profiles.check_chapter(chapter)
    return [claim for claim in REGISTRY.values() if claim.chapter == chapter]
