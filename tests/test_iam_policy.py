"""iam_policy against a small, obviously-correct reference evaluator, on random policies."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_prr.checks.iam_policy import (
    ANY_RESOURCE,
    RISKY_LEVELS,
    action_levels,
    allows,
    grants_on_all_resources,
    risky_grants,
    unknown_actions,
    wildcard_grants,
    wildcard_only_actions,
)

SERVICES = {
    "s3": ["GetObject", "PutObject", "ListBucket"],
    "sqs": ["SendMessage", "DeleteQueue"],
    "iam": ["PassRole", "GetRole"],
}
ACTIONS = [f"{service}:{name}" for service, names in SERVICES.items() for name in names]
#: Actions that no pattern below names explicitly: a grant of one is a wildcard grant.
FRESH = [f"{service}:{name}" for service in [*SERVICES, "zzfresh"] for name in ("Zq", "Xyzzy9")]
RESOURCES = [
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::other",
    "arn:aws:sqs:us-east-1:123456789012:queue",
    "arn:aws:iam::123456789012:role/app",
    "ARN:AWS:S3:::thing",
    ANY_RESOURCE,
    "prr-unnamed-resource",  # only a pattern of wildcards names it: NotResource short of "*"
]
RESOURCE_PATTERNS = [
    "*",
    "arn:*",
    "arn:aws:*:*:*:*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::*",
    "arn:aws:sqs:us-east-1:123456789012:queue",
    "arn:aws:iam::123456789012:role/*",
    "ARN:AWS:S3:::*",
    "arn:aws:s3:::bucke?/key",
]


def glob(pattern: str, text: str) -> bool:
    """IAM wildcard matching, character by character: ``*`` any run, ``?`` one char."""
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    return bool(text) and pattern[0] in ("?", text[0]) and glob(pattern[1:], text[1:])


def listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def element_applies(statement: dict, key: str, value: str, fold: bool) -> bool:
    def match(pattern: str) -> bool:
        return glob(pattern.lower(), value.lower()) if fold else glob(pattern, value)

    if key in statement:
        return any(match(p) for p in listed(statement[key]))
    return not any(match(p) for p in listed(statement["Not" + key]))


def reference_allows(document: dict, action: str, resource: str) -> bool:
    return any(
        s["Effect"] == "Allow"
        and element_applies(s, "Action", action, True)
        and element_applies(s, "Resource", resource, False)
        for s in listed(document["Statement"])
    )


@st.composite
def action_patterns(draw: st.DrawFn) -> str:
    action = draw(st.sampled_from(ACTIONS))
    shape = draw(st.sampled_from(["exact", "prefix", "one", "case", "fixed"]))
    if shape == "prefix":  # s3:Get*, s3:*, s3*, s*, *
        return action[: draw(st.integers(0, len(action) - 1))] + "*"
    if shape == "one":  # one character replaced by ?
        at = draw(st.integers(0, len(action) - 1))
        return action[:at] + "?" + action[at + 1 :]
    if shape == "case":
        return action.upper()
    if shape == "fixed":
        return draw(st.sampled_from(["*", "*:*", "*:Get*", "iam:*Role", "s3:?*", "*Object"]))
    return action


def fields(key: str, patterns: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    values = st.one_of(patterns, st.lists(patterns, min_size=1, max_size=3))
    return st.sampled_from([key, "Not" + key]).flatmap(lambda name: values.map(lambda v: {name: v}))


statements = st.builds(
    lambda effect, action, resource: {"Effect": effect, **action, **resource},
    st.sampled_from(["Allow", "Allow", "Deny"]),
    fields("Action", action_patterns()),
    fields("Resource", st.sampled_from(RESOURCE_PATTERNS)),
)
documents = st.one_of(
    statements.map(lambda s: {"Version": "2012-10-17", "Statement": s}),
    st.lists(statements, min_size=1, max_size=4).map(
        lambda s: {"Version": "2012-10-17", "Statement": s}
    ),
)


@settings(max_examples=300)
@given(documents)
def test_allows_agrees_with_the_reference(document: dict) -> None:
    for action in ACTIONS + FRESH:
        for resource in RESOURCES:
            assert allows(document, action, resource) == reference_allows(
                document, action, resource
            ), (action, resource)


@settings(max_examples=300)
@given(documents)
def test_grants_on_all_resources_agree_with_the_reference(document: dict) -> None:
    granted = {g.action for g in grants_on_all_resources("p", document, ACTIONS)}
    assert granted == {a for a in ACTIONS if reference_allows(document, a, ANY_RESOURCE)}


@settings(max_examples=300)
@given(documents)
def test_wildcard_grants_are_grants_of_actions_nobody_named(document: dict) -> None:
    """A policy allows ``*`` or ``service:*`` exactly when it allows actions no pattern
    names, on any resource."""
    found = bool(wildcard_grants("p", document))
    expected = any(reference_allows(document, a, r) for a in FRESH for r in RESOURCES)
    assert found == expected


def test_access_levels_come_from_the_action_database() -> None:
    levels = action_levels()
    assert len(levels) > 10_000
    assert levels["s3:getobject"] == ("s3:GetObject", "Read")
    assert levels["s3:putobject"] == ("s3:PutObject", "Write")
    assert levels["iam:passrole"] == ("iam:PassRole", "Permissions management")
    assert levels["ec2:createtags"] == ("ec2:CreateTags", "Tagging")


def test_risky_grants_expand_wildcards_to_risky_levels_only() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:*Object", "Resource": "*"}]}
    found = {grant.action: level for grant, level in risky_grants("p", document)}
    assert found["s3:PutObject"] == "Write" and found["s3:DeleteObject"] == "Write"
    assert "s3:GetObject" not in found
    assert set(found.values()) <= set(RISKY_LEVELS)
    scoped = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
    assert risky_grants("p", scoped) == []


def test_actions_without_a_resource_type_are_not_risky_on_all_resources() -> None:
    unscoped = wildcard_only_actions()
    assert {"xray:puttracesegments", "cloudwatch:putmetricdata"} <= unscoped
    assert "logs:createloggroup" not in unscoped and "s3:putobject" not in unscoped
    document = {"Statement": [{"Effect": "Allow", "Action": "xray:Put*", "Resource": "*"}]}
    assert risky_grants("p", document) == []
    document["Statement"][0]["Action"] = "xray:*"
    found = {grant.action for grant, _ in risky_grants("p", document)}
    assert "xray:CreateGroup" in found  # groups have an ARN, so "*" is broader than needed


def test_unknown_literal_actions_on_all_resources() -> None:
    document = {"Statement": {"Effect": "Allow", "Action": ["s3:GetObject", "s3:Nope"]}}
    assert unknown_actions("p", {**document}) == []  # no Resource element: applies to nothing
    document["Statement"]["Resource"] = "*"
    assert [g.action for g in unknown_actions("p", document)] == ["s3:Nope"]
