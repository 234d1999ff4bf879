"""The guardrails pytest-prr ships as package data, for ``prr guardrails export``.

A failed GOV or IAM-04 control is fixed by deploying a guardrail, not by changing a
function. Shipping reviewed, tested artifacts beside the checks means the fix a team deploys
is the one the checks were proven to credit (``tests/test_guardrails.py`` deploys each into
moto and turns its controls from FAIL to PASS). Beside them ships what an organization
deploys for pytest-prr itself: the read-only role it assumes in each member account, whose
permissions ``tests/test_guardrails_member_role.py`` holds to exactly the snapshot's reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

#: The file that maps the conformance pack's rules to controls and names the pack.
PACK_MAPPING = "conformance-pack-lambda-prr.controls.yaml"
#: The CloudFormation template of the role pytest-prr assumes in each member account of an
#: organization, for a service-managed StackSet.
MEMBER_ROLE = "stackset-member-role-prr.yaml"


@dataclass(frozen=True)
class Artifact:
    """One file of package data: what it is and which controls it satisfies."""

    filename: str
    kind: str
    controls: tuple[str, ...]

    def text(self) -> str:
        return resources.files(__name__).joinpath(self.filename).read_text("utf-8")

    def document(self) -> Any:
        """The parsed JSON policy or YAML template; the templates use no CloudFormation
        tags, so any YAML parser reads them."""
        if self.filename.endswith(".json"):
            return json.loads(self.text())
        if self.filename.endswith(".yaml"):
            return yaml.safe_load(self.text())
        raise ValueError(f"{self.filename} is prose, not a document")


ARTIFACTS = (
    Artifact("scp-lambda-prr.json", "service control policy", ("GOV-06", "GOV-07")),
    Artifact("permission-boundary-lambda.json", "IAM permissions boundary", ("IAM-04",)),
    Artifact("conformance-pack-lambda-prr.yaml", "AWS Config conformance pack", ("GOV-04",)),
    Artifact(PACK_MAPPING, "conformance pack rules -> controls", ("GOV-04",)),
    Artifact(MEMBER_ROLE, "StackSet template: pytest-prr's read-only member role", ()),
    Artifact("README.md", "how to deploy them", ()),
)


def artifact(filename: str) -> Artifact:
    """The artifact shipped as ``filename``."""
    for candidate in ARTIFACTS:
        if candidate.filename == filename:
            return candidate
    raise KeyError(f"no guardrail named {filename}; shipped: {', '.join(listed())}")


def listed() -> list[str]:
    return [candidate.filename for candidate in ARTIFACTS]


def conformance_pack_name() -> str:
    """The name the conformance pack is meant to be deployed under (GOV-04's default)."""
    return str(artifact(PACK_MAPPING).document()["conformance_pack"])
