"""The pre-deploy corpus (tests/corpus/corpus.yaml): each template deployed into one moto
account, the account read once, every built-in control evaluated, and each template's
resources' verdicts compared with the pinned ones (tests/corpus/verdicts.json).

One server and one snapshot for the whole corpus keep it at a few seconds per template;
each template is its own stack, and a verdict belongs to the template whose function or API
it names. ``PRR_CORPUS_PIN=1`` rewrites verdicts.json from what the run gives instead of
comparing: review its diff like code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_prr.accounts.config import moto_account
from pytest_prr.accounts.emulators import embedded_moto
from pytest_prr.accounts.motoserver import MotoServer, deployments, recorded
from pytest_prr.accounts.sessions import open_session
from pytest_prr.catalog import builtin_catalog
from pytest_prr.checks.evaluation import evaluate_control
from pytest_prr.deploy import Deployment, TemplateError, deploy, prepare
from pytest_prr.snapshot.collect.fidelity import Fidelity
from pytest_prr.snapshot.take import take_snapshot

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "corpus.yaml").read_text())["templates"]
PINNED = CORPUS / "verdicts.json"
REGION = "us-east-1"
#: The share of the corpus that must deploy (issue 14).
DEPLOY_RATE = 0.95
#: Controls about the account, not about a template's resources: not pinned per template.
ACCOUNT_SCOPES = ("global", "account")


@dataclass
class Outcome:
    """What deploying one template gave: its deployment or why it failed, and its verdicts
    by resource (logical ID) and control."""

    deployment: Deployment | None = None
    error: str | None = None
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def corpus() -> Iterator[dict[str, Outcome]]:
    """Every template deployed into one moto server, then judged over one snapshot."""
    server = MotoServer()
    url = server.start()
    try:
        with pytest.MonkeyPatch.context() as env:
            for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                env.setenv(key, "testing")
            account = moto_account()
            outcomes = {name: _deploy(account, url, entry) for name, entry in MANIFEST.items()}
            snapshot = take_snapshot(
                open_session(account, url),
                account,
                fidelity=Fidelity.of(embedded_moto(), recorded(url), tuple(deployments(url))),
            )
        _judge(snapshot, outcomes)
        yield outcomes
    finally:
        server.stop()


def _deploy(account: Any, url: str, entry: Mapping[str, Any]) -> Outcome:
    path = CORPUS / entry["template"]
    try:
        prepared = prepare(path, entry.get("parameters", {}), REGION)
        return Outcome(deployment=deploy(prepared, open_session(account, url), REGION))
    except TemplateError as error:
        return Outcome(error=f"{error.where}: {error.problem}" if error.where else error.problem)


def _judge(snapshot: Any, outcomes: Mapping[str, Outcome]) -> None:
    """Each result of a resource a template created, under that template and resource."""
    from pytest_prr.checks.registry import registered_checks

    owners = {
        physical: (name, logical_id)
        for name, outcome in outcomes.items()
        if outcome.deployment is not None
        for logical_id, physical in outcome.deployment.physical.items()
        if outcome.deployment.by_api[logical_id]
        in ("AWS::Lambda::Function", "AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api")
    }
    checks = registered_checks()
    for control in builtin_catalog():
        check = checks.get(control.id)
        if check is None or check.scope in ACCOUNT_SCOPES:
            continue
        tunables = builtin_catalog().tunables({}, "defaults")
        for finding in evaluate_control(control, snapshot, tunables=tunables):
            owner = _owner(finding.resource_id, owners)
            if owner is not None:
                name, logical_id = owner
                outcomes[name].verdicts.setdefault(logical_id, {})[control.id] = finding.status


def _owner(resource_id: str, owners: Mapping[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The template and logical ID whose function (by name) or API (by ID) a result names."""
    for physical, owner in owners.items():
        if f":function:{physical}" in resource_id or f"/{physical}/" in f"{resource_id}/":
            return owner
    return None


def test_at_least_95_percent_of_the_corpus_deploys(corpus: dict[str, Outcome]) -> None:
    deployed = [name for name, outcome in corpus.items() if outcome.error is None]
    assert len(corpus) >= 20
    assert len(deployed) / len(corpus) >= DEPLOY_RATE, {
        name: outcome.error for name, outcome in corpus.items() if outcome.error
    }


@pytest.mark.parametrize("name", list(MANIFEST))
def test_each_template_deploys_or_says_why(corpus: dict[str, Outcome], name: str) -> None:
    entry, outcome = MANIFEST[name], corpus[name]
    if entry.get("deploys", True):
        assert outcome.error is None, outcome.error
        assert outcome.deployment is not None
        left_out = sorted(u.logical_id for u in outcome.deployment.unsupported)
        assert left_out == sorted(entry.get("unsupported", [])), left_out
    else:
        assert outcome.error == entry["why"]


def test_the_verdicts_are_the_pinned_ones(corpus: dict[str, Outcome]) -> None:
    got = {name: outcome.verdicts for name, outcome in corpus.items() if outcome.verdicts}
    if os.environ.get("PRR_CORPUS_PIN"):
        PINNED.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"PRR_CORPUS_PIN: wrote {PINNED}; review its diff")
    assert got == json.loads(PINNED.read_text())
