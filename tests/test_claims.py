"""The claims of one run, decided on the numbers its notebooks computed (``results/<run>/*.json``).

``make claims`` runs these after ``make book`` with RDCN_REQUIRE_RESULTS=1, for the run its parameters name
(``RDCN_PROFILE``, ``RDCN_SEED``, …, as ``make book`` does): every chapter must then have results, every claim the
registry (:mod:`rdcn.claims`) lists for it must be there, decided by the registry's own rule on the stored numbers,
and every claim the run's profile is designed to show must hold. A run with size overrides is not at its
profile's designed scale (the ``paper`` rehearsal, a custom scale): its claims are computed, not asserted. Without
RDCN_REQUIRE_RESULTS (a plain ``pytest``), missing results skip these tests. There is no exemption by claim id.
"""
import os

import pytest

from rdcn import claims
from rdcn.claims.rules import HOLDS, STATES
from rdcn.core.results import load_run
from rdcn.core.runs import Run

pytestmark = pytest.mark.claims


def _results():
    run = Run.from_environment()
    try:
        return run, load_run(run)
    except FileNotFoundError as error:
        if os.environ.get("RDCN_REQUIRE_RESULTS") == "1":
            raise
        pytest.skip(f"no results for run {run.name} ({error}); run `make book`")


def test_results_belong_to_the_run():
    run, results = _results()
    for chapter, result in results.items():
        assert result["run"] == run.name and result["profile"] == run.profile and result["seed"] == run.seed, chapter


def test_every_registered_claim_is_present_and_decided_by_its_rule():
    _, results = _results()
    for chapter, result in results.items():
        registered = [c.id for c in claims.of_chapter(chapter)]
        stored = result["claims"]
        missing, unknown = sorted(set(registered) - set(stored)), sorted(set(stored) - set(registered))
        assert not missing, f"{chapter} lacks claim(s) {missing}"
        assert not unknown, f"{chapter} has unregistered claim(s) {unknown}"
        for claim_id in registered:
            claim, entry = claims.get(claim_id), stored[claim_id]
            assert entry["verdict"]["state"] in STATES, claim_id
            assert entry["rule"] == claim.rule.describe(), f"{claim_id} was decided by another rule"
            assert claim.decide(entry["measured"]).state == entry["verdict"]["state"], claim_id


def test_claims_the_profile_is_designed_to_show_hold():
    run, results = _results()
    if run.sizes:
        pytest.skip(f"run {run.name} has size overrides: its claims are computed, not asserted")
    failing = {claim_id: entry["verdict"]["summary"] for result in results.values()
               for claim_id, entry in result["claims"].items()
               if run.profile in claims.get(claim_id).designed_for and entry["verdict"]["state"] != HOLDS}
    assert not failing, f"claims the {run.profile} profile is designed to show that do not hold: {failing}"
