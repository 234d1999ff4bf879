"""Secret detection and redaction of Lambda environment variables (SEC-02, DAT-01).

Environment variables are read into the snapshot, which is saved and shared as audit
evidence; a plaintext secret must never reach it or any output. So the snapshot keeps a
finding in place of a value: its kind and its length, never the value, a hash (a short
secret's hash can be brute-forced) or a prefix. References to Secrets Manager and SSM are kept
as values: they are not secrets, and DAT-01 reads which secrets a function references.

The rule is the spec's SEC-02 rule. A name containing ``TOKEN`` is secret-looking whatever
its value, so ``TOKEN_TTL_SECONDS=300`` is a finding: the spec has no exceptions, and a
false alarm is cheap next to a leaked token (a team waives it in its own catalog).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: A secret-looking variable NAME (SEC-02), in any case.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIAL", re.IGNORECASE
)

#: Known credential formats, searched anywhere in any VALUE, whatever the name; checked in
#: this order, before the secret-looking name.
CREDENTIAL_FORMATS: dict[str, re.Pattern[str]] = {
    # An IAM user's (AKIA) or a temporary session's (ASIA) access key ID.
    "aws-access-key-id": re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}"),
    # A PEM header: PKCS#8, RSA, EC, DSA, OPENSSH, ENCRYPTED, and a PGP private key block.
    "private-key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    # GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
    "github-token": re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}"),
    # Slack bot, user, app-level and refresh tokens; the body (10+ characters) keeps the
    # bare word "xoxb-" in a comment or a doc from being a finding.
    "slack-token": re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}"),
}

#: A Secrets Manager secret or an SSM parameter by ARN, in any partition (aws, aws-cn,
#: aws-us-gov, aws-iso...). The resource part stops at characters no secret or parameter
#: name has, so an ARN is found inside a JSON or comma-separated value too.
REFERENCE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:"
    r"(?:secretsmanager:[a-z0-9-]+:\d{12}:secret:|ssm:[a-z0-9-]+:\d{12}:parameter/)"
    r"[A-Za-z0-9/_+=.@:-]+"
)

#: A whole VALUE that is a reference and nothing else: reference ARNs (a comma-separated list
#: of them too). A reference followed by anything else is not one: trailing plaintext would
#: otherwise escape the secret-looking-name rule.
REFERENCE_VALUE = re.compile(rf"(?:{REFERENCE_ARN.pattern})(?:\s*,\s*(?:{REFERENCE_ARN.pattern}))*")

#: NAME endings that say the value names a secret or parameter rather than holding one
#: (``DB_SECRET_NAME=prod/db``), in any case.
REFERENCE_NAME_SUFFIXES = (
    "_SECRET_NAME",
    "_SECRET_ID",
    "_SECRET_ARN",
    "_PARAMETER_NAME",
    "_PARAM_NAME",
    "_SSM_PARAMETER",
)
#: What a Secrets Manager secret or SSM parameter name can be.
PLAUSIBLE_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")

#: A CloudFormation dynamic reference. CloudFormation resolves it at deployment and writes
#: the resolved value into the function's configuration, in plaintext, for anyone who can
#: read the function; only a template (or an emulator that does not resolve it) shows it.
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:")
#: A dynamic reference whose resolved value is a secret.
DYNAMIC_SECRET = re.compile(r"\{\{resolve:(?:secretsmanager|ssm-secure):")


def is_reference(name: str, value: str) -> bool:
    """Whether ``value`` only points at a secret: reference ARNs, or a plausible secret or
    parameter name under a NAME that says it is one."""
    if REFERENCE_VALUE.fullmatch(value):
        return True
    return name.upper().endswith(REFERENCE_NAME_SUFFIXES) and bool(PLAUSIBLE_NAME.fullmatch(value))


def classify(name: str, value: str) -> str | None:
    """The SEC-02 finding for one variable, or None when it is clean.

    A credential format is a finding wherever it appears, even inside a reference or under
    an innocent name; so is a dynamic reference to a secret, which CloudFormation turns into
    the plaintext secret. A secret-looking name is a finding when its value is non-empty and
    not a reference; any dynamic reference under such a name is resolved into plaintext too.
    """
    for kind, pattern in CREDENTIAL_FORMATS.items():
        if pattern.search(value):
            return kind
    if DYNAMIC_SECRET.search(value):
        return "dynamic-reference"
    if not value or not SECRET_NAME.search(name):
        return None
    if DYNAMIC_REFERENCE.search(value):
        return "dynamic-reference"
    return None if is_reference(name, value) else "secret-name"


def redact_environment(variables: Mapping[str, str]) -> dict[str, dict]:
    """The environment as the snapshot stores it: clean values kept, findings redacted.

    A clean variable is ``{"value": v}``; a finding is ``{"redacted": True, "finding": kind,
    "length": len(v)}``, enough for SEC-02 to fail and name the variable, and nothing that
    helps recover the value.
    """
    redacted: dict[str, dict] = {}
    for name, value in variables.items():
        finding = classify(name, value)
        if finding is None:
            redacted[name] = {"value": value}
        else:
            redacted[name] = {"redacted": True, "finding": finding, "length": len(value)}
    return redacted


def references(environment: Mapping[str, dict]) -> list[str]:
    """Secrets Manager and SSM ARNs in a redacted environment, in order, without repeats.

    DAT-01 checks that the referenced secrets rotate. Redacted variables have no value to
    search, which is as it should be: a finding is not a reference.
    """
    found: dict[str, None] = {}
    for entry in environment.values():
        for arn in REFERENCE_ARN.findall(entry.get("value", "")):
            found[arn] = None
    return list(found)
