"""Prowler's and Checkov's Lambda check cases (``peer_cases.py``) through pytest-prr's checks.

Each case asserts the verdict spec v1.1 requires of pytest-prr on the peer's input; the last
tests pin where pytest-prr and the peers disagree, so that a verdict that moves toward or away
from a peer is a reviewed change of ``DOCUMENTED_DISAGREEMENTS``, never an accident.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from peer_cases import (
    CASES,
    CHECKOV_COMMIT,
    DOCUMENTED_DISAGREEMENTS,
    PEER_EQUIVALENT,
    PROWLER_COMMIT,
    VERDICTS,
    PeerCase,
)
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks import (  # noqa: F401 (registration)
    guardrails,
    network,
    observability,
    reliability,
    security,
)
from pytest_prr.checks.base import REGISTRY, run_check
from pytest_prr.results.model import Result
from pytest_prr.snapshot.redact import redact_environment

REPOS = {"prowler": "prowler-cloud/prowler", "checkov": "bridgecrewio/checkov"}
TUNABLES = {t.name: t.default for c in builtin_catalog() for t in c.tunables}


def finding(case: PeerCase, control: str) -> Result:
    """The one finding of ``control`` on the case's snapshot (one function, one region)."""
    findings = run_check(REGISTRY[control], case.snapshot(), TUNABLES)
    assert len(findings) == 1, findings
    return findings[0]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_peer_case_gets_the_spec_verdict(case: PeerCase) -> None:
    result = finding(case, case.control)
    assert result.status == case.expected, (
        f"{case.control} on {case.peer}'s {case.test} ({case.input_path}): "
        f"spec says {case.expected}, got {result.status}: {result.message}"
    )


OTHER_CONTROLS = [
    pytest.param(case, control, expected, id=f"{case.id}[{control}]")
    for case in CASES
    for control, expected in case.also.items()
]


@pytest.mark.parametrize(("case", "control", "expected"), OTHER_CONTROLS)
def test_peer_input_under_another_control(case: PeerCase, control: str, expected: str) -> None:
    result = finding(case, control)
    assert result.status == expected, f"{control}: {result.message}"


def test_cases_are_well_formed() -> None:
    ids = Counter(case.id for case in CASES)
    assert [i for i, n in ids.items() if n > 1] == []
    for case in CASES:
        assert case.peer in ("prowler", "checkov"), case.id
        assert case.repo == REPOS[case.peer], case.id
        assert re.fullmatch(r"[0-9a-f]{40}", case.commit), case.id
        assert case.test_path.startswith("tests/") and case.test_path.endswith(".py"), case.id
        assert case.input_path.startswith("tests/"), case.id
        assert case.peer_check.endswith(".py") and case.test, case.id
        assert case.peer_verdict in PEER_EQUIVALENT, case.id
        assert case.expected in VERDICTS, case.id
        assert case.control in REGISTRY, case.id
        assert set(case.also) <= set(REGISTRY) and set(case.also.values()) <= set(VERDICTS)
        assert case.control not in case.also, case.id


def test_every_disagreement_is_explained_and_only_disagreements_are() -> None:
    unexplained = [c.id for c in CASES if c.disagrees and not c.why.strip()]
    explained_agreements = [c.id for c in CASES if not c.disagrees and c.why]
    assert unexplained == []
    assert explained_agreements == []


def test_documented_disagreements_are_the_cases_whose_verdicts_differ() -> None:
    """The data: peer verdict against the spec's verdict, as written in the cases."""
    differing = {case.id for case in CASES if case.disagrees}
    assert sorted(differing - DOCUMENTED_DISAGREEMENTS) == []
    assert sorted(DOCUMENTED_DISAGREEMENTS - differing) == []


def test_pytest_prr_disagrees_with_its_peers_exactly_where_documented() -> None:
    """The behaviour: pytest-prr's actual verdicts against the peers'. A case listed here
    on either side is a verdict that changed without the documentation changing."""
    actual = {}
    for case in CASES:
        actual[case.id] = finding(case, case.control).status
    differing = {c.id for c in CASES if PEER_EQUIVALENT[c.peer_verdict] != actual[c.id]}
    newly = {i: actual[i] for i in sorted(differing - DOCUMENTED_DISAGREEMENTS)}
    vanished = {i: actual[i] for i in sorted(DOCUMENTED_DISAGREEMENTS - differing)}
    assert (newly, vanished) == ({}, {}), (
        "verdicts that now disagree with the peer without a documented reason, and "
        "documented disagreements that no longer happen"
    )


def test_cases_read_both_peers_and_the_commits_read() -> None:
    by_peer = Counter(case.peer for case in CASES)
    assert by_peer["prowler"] >= 40 and by_peer["checkov"] >= 70, by_peer
    commits = {case.commit for case in CASES}
    assert PROWLER_COMMIT in commits and CHECKOV_COMMIT in commits


def test_no_secret_value_reaches_a_finding() -> None:
    """Spec SEC-02: values never appear in any output, also for the peers' secrets."""
    checked = 0
    for case in CASES:
        if case.control != "SEC-02" or not case.environment:
            continue
        redacted = redact_environment(case.environment)
        result = finding(case, "SEC-02")
        output = result.message + json.dumps(result.evidence, default=str)
        for name, value in case.environment.items():
            if redacted[name].get("redacted"):
                checked += 1
                assert value not in output, f"{case.id}: the value of {name} is in the finding"
                assert name in result.message, f"{case.id}: {name} is not named"
    assert checked >= 10
