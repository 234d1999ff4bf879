"""SEC-02 secret detection: findings are redacted to kind and length, references are kept."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pytest_prr.snapshot.redact import classify, redact_environment, references

#: The spec's secret-looking words, restated so that the test states the spec, not the code.
SECRET_WORDS = (
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
)
UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
#: Plain text that cannot spell a credential format, a reference or a kind name: no
#: uppercase (AKIA, BEGIN), no "x" (xoxb-), no "_" (ghp_), no ":" (arn:, {{resolve:).
PLAIN = "abcdefghijklmnopqrstuvwyz0123456789 .-/"


@st.composite
def aws_access_key_ids(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["AKIA", "ASIA"])) + draw(
        st.text(UPPER_DIGITS, min_size=16, max_size=16)
    )


@st.composite
def private_keys(draw: st.DrawFn) -> str:
    label = draw(st.sampled_from(["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "]))
    block = " BLOCK" if label == "PGP " else ""
    body = draw(st.text(string.ascii_letters + string.digits + "+/=", min_size=20, max_size=80))
    newline = draw(st.sampled_from(["\n", "\\n"]))  # a real or an escaped newline
    return (
        f"-----BEGIN {label}PRIVATE KEY{block}-----{newline}{body}{newline}"
        f"-----END {label}PRIVATE KEY{block}-----"
    )


@st.composite
def github_tokens(draw: st.DrawFn) -> str:
    return f"gh{draw(st.sampled_from('pousr'))}_" + draw(st.text(ALNUM, min_size=36, max_size=60))


@st.composite
def slack_tokens(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from("abpr"))
    parts = draw(
        st.lists(st.text(ALNUM, min_size=4, max_size=32), min_size=2, max_size=4).map("-".join)
    )
    return f"xox{kind}-{draw(st.text(string.digits, min_size=10, max_size=13))}-{parts}"


CREDENTIALS = {
    "aws-access-key-id": aws_access_key_ids(),
    "private-key": private_keys(),
    "github-token": github_tokens(),
    "slack-token": slack_tokens(),
}


@st.composite
def credentials(draw: st.DrawFn) -> tuple[str, str]:
    """A finding kind and a credential of that kind."""
    kind = draw(st.sampled_from(sorted(CREDENTIALS)))
    return kind, draw(CREDENTIALS[kind])


#: The spec's NAME endings of a variable that names a secret (v1.1), restated.
REFERENCE_SUFFIXES = (
    "_SECRET_NAME",
    "_SECRET_ID",
    "_SECRET_ARN",
    "_PARAMETER_NAME",
    "_PARAM_NAME",
    "_SSM_PARAMETER",
)


def mixed_case(draw: st.DrawFn, word: str) -> str:
    return "".join(draw(st.sampled_from([c.lower(), c.upper()])) for c in word)


@st.composite
def secret_names(draw: st.DrawFn) -> str:
    """A name containing a secret-looking word in any mix of case, not one that says it
    names a secret (``*_SECRET_NAME``: see reference_names)."""
    word = draw(st.sampled_from(SECRET_WORDS))
    affix = st.text(string.ascii_uppercase + string.digits + "_", max_size=12)
    name = draw(affix) + mixed_case(draw, word) + draw(affix)
    assume(not name.upper().endswith(REFERENCE_SUFFIXES))
    return name


@st.composite
def reference_names(draw: st.DrawFn) -> str:
    """A name that says its value names a secret or parameter, often secret-looking too
    (``APP_PRIVATE_KEY_SECRET_NAME``)."""
    prefix = draw(
        st.sampled_from(["", "APP_", "DB", "APP_PRIVATE_KEY", "API_TOKEN", "ORDERS_PASSWORD"])
    )
    return prefix + mixed_case(draw, draw(st.sampled_from(REFERENCE_SUFFIXES)))


@st.composite
def reference_arns(draw: st.DrawFn) -> str:
    partition, region = draw(
        st.sampled_from(
            [
                ("aws", "eu-west-1"),
                ("aws", "us-east-1"),
                ("aws", "ap-southeast-2"),
                ("aws-us-gov", "us-gov-west-1"),
                ("aws-cn", "cn-north-1"),
            ]
        )
    )
    account = draw(st.text(string.digits, min_size=12, max_size=12))
    name = draw(st.from_regex(r"[a-wyz0-9][a-wyz0-9/_.-]{0,39}", fullmatch=True))
    if draw(st.booleans()):
        suffix = draw(st.text(ALNUM, min_size=6, max_size=6))
        return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-{suffix}"
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{name}"


def assert_redacted(entry: dict, kind: str, value: str) -> None:
    """Exactly kind and length: no value, no hash, no prefix."""
    assert entry == {"redacted": True, "finding": kind, "length": len(value)}


@given(credentials(), st.text(), st.text(), st.sampled_from(["CONFIG", "DB_PASSWORD", "url"]))
def test_credential_formats_are_found_anywhere_and_never_kept(
    credential: tuple[str, str], before: str, after: str, name: str
) -> None:
    kind, secret = credential
    value = before + secret + after
    assert classify(name, value) == kind  # formats take precedence over a secret-looking name
    redacted = redact_environment({name: value, "LOG_LEVEL": "INFO"})
    assert_redacted(redacted[name], kind, value)
    for dumped in (json.dumps(redacted), json.dumps(redacted, ensure_ascii=False)):
        for line in secret.replace("\\n", "\n").splitlines():
            assert line not in dumped
    assert redacted["LOG_LEVEL"] == {"value": "INFO"}


@given(credentials(), reference_arns())
def test_a_credential_inside_a_reference_is_still_found(
    credential: tuple[str, str], arn: str
) -> None:
    kind, secret = credential
    assert classify("DB_SECRET_ARN", arn + secret) == kind


@given(secret_names(), reference_arns())
def test_references_under_secret_names_are_kept(name: str, arn: str) -> None:
    assert classify(name, arn) is None
    redacted = redact_environment({name: arn})
    assert redacted == {name: {"value": arn}}
    assert references(redacted) == [arn]


@given(secret_names(), st.lists(reference_arns(), min_size=2, max_size=4, unique=True))
def test_a_list_of_references_is_kept(name: str, arns: list[str]) -> None:
    value = ", ".join(arns)
    assert classify(name, value) is None
    assert references(redact_environment({name: value})) == arns


SECRET_DYNAMIC_REFERENCES = st.builds(
    "{{{{resolve:{}:{}}}}}".format,
    st.sampled_from(["secretsmanager", "ssm-secure"]),
    st.from_regex(r"[A-Za-z0-9/_.-]{1,30}(:SecretString:[a-z]{1,10})?", fullmatch=True),
)


@given(
    SECRET_DYNAMIC_REFERENCES,
    st.sampled_from(["DB_PASSWORD", "CONFIG", "db_url", "ORDERS_SECRET_NAME"]),
    st.text(PLAIN),
)
def test_a_dynamic_reference_to_a_secret_is_a_finding_under_any_name(
    reference: str, name: str, before: str
) -> None:
    """CloudFormation resolves it into the plaintext function configuration (v1.1)."""
    value = before + reference
    assert classify(name, value) == "dynamic-reference"
    assert_redacted(redact_environment({name: value})[name], "dynamic-reference", value)


@given(secret_names(), st.from_regex(r"\{\{resolve:ssm:/[a-z/]{1,20}(:[0-9])?\}\}", fullmatch=True))
def test_any_dynamic_reference_under_a_secret_name_is_a_finding(name: str, value: str) -> None:
    assert classify(name, value) == "dynamic-reference"


def test_a_plain_parameter_resolved_under_an_ordinary_name_is_kept() -> None:
    value = "{{resolve:ssm:/orders/table-name}}"
    assert redact_environment({"TABLE_NAME": value}) == {"TABLE_NAME": {"value": value}}


@given(reference_names(), st.from_regex(r"[A-Za-z0-9/_+=.@-]{1,60}", fullmatch=True))
def test_a_plausible_name_under_a_reference_name_is_kept(name: str, value: str) -> None:
    """``APP_PRIVATE_KEY_SECRET_NAME=my-secret`` names a secret, it is not one (v1.1)."""
    assert classify(name, value) is None
    assert redact_environment({name: value}) == {name: {"value": value}}


@given(
    reference_names().filter(lambda name: any(w in name.upper() for w in SECRET_WORDS)),
    st.text(PLAIN, min_size=1).filter(lambda v: " " in v),
)
def test_an_implausible_name_under_a_secret_looking_reference_name_is_a_finding(
    name: str, value: str
) -> None:
    """A value no secret can be named holds something else: the name still looks secret."""
    assert classify(name, value) == "secret-name"


@given(reference_names(), credentials())
def test_a_credential_under_a_reference_name_is_a_finding(
    name: str, credential: tuple[str, str]
) -> None:
    kind, secret = credential
    assert classify(name, secret) == kind


@given(secret_names(), reference_arns(), st.text(PLAIN, min_size=1).map(str.strip).filter(bool))
def test_plaintext_after_a_reference_is_a_finding(name: str, arn: str, plaintext: str) -> None:
    """A reference whitelists itself, not whatever follows it."""
    assert classify(name, f"{arn} {plaintext}") == "secret-name"


@given(secret_names(), st.text(PLAIN, min_size=1))
def test_plain_values_under_secret_names_are_found(name: str, value: str) -> None:
    assert classify(name, value) == "secret-name"
    assert_redacted(redact_environment({name: value})[name], "secret-name", value)


@given(secret_names())
def test_an_empty_value_is_no_finding(name: str) -> None:
    assert classify(name, "") is None
    assert redact_environment({name: ""}) == {name: {"value": ""}}


@given(
    st.text(string.ascii_uppercase + "_", min_size=1).filter(
        lambda name: not any(word in name for word in SECRET_WORDS)
    ),
    st.text(PLAIN),
)
def test_plain_values_under_other_names_are_kept(name: str, value: str) -> None:
    assert classify(name, value) is None
    assert redact_environment({name: value}) == {name: {"value": value}}


def test_ordinary_configuration() -> None:
    """The spec has no exceptions: a TOKEN name with a non-secret value is still a finding."""
    arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders/db-AbCdEf"
    parameter = "arn:aws:ssm:eu-west-1:111122223333:parameter/orders/config"
    redacted = redact_environment(
        {
            "LOG_LEVEL": "INFO",
            "POWERTOOLS_SERVICE_NAME": "orders",
            "POWERTOOLS_METRICS_NAMESPACE": "Orders",
            "TABLE_NAME": "orders",
            "TOKEN_TTL_SECONDS": "300",
            "DB_SECRET_ARN": arn,
            "CONFIG": json.dumps({"parameter": parameter, "retries": 3}),
            "DB_PASSWORD_ARN": arn,
        }
    )
    assert redacted["LOG_LEVEL"] == {"value": "INFO"}
    assert redacted["POWERTOOLS_SERVICE_NAME"] == {"value": "orders"}
    assert redacted["POWERTOOLS_METRICS_NAMESPACE"] == {"value": "Orders"}
    assert redacted["TABLE_NAME"] == {"value": "orders"}
    assert_redacted(redacted["TOKEN_TTL_SECONDS"], "secret-name", "300")
    assert redacted["DB_SECRET_ARN"] == redacted["DB_PASSWORD_ARN"] == {"value": arn}
    assert references(redacted) == [arn, parameter]


@pytest.mark.parametrize(
    "value",
    [
        "xoxb-",  # the bare prefix, e.g. in a comment, is not a token
        "ghp_short",
        "AKIA1234",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_near_misses_are_not_credentials(value: str) -> None:
    assert classify("DESCRIPTION", value) is None
