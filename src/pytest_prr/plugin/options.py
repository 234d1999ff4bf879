"""pytest-prr's command-line options and ini settings (``pytest --help`` shows them under
"production readiness")."""

from __future__ import annotations

import pytest


def add_options(parser: pytest.Parser) -> None:
    """Every option in the "prr" group, and the ini settings."""
    group = parser.getgroup("prr", "production readiness (pytest-prr)")
    group.addoption(
        "--prr-account",
        action="append",
        dest="prr_accounts",
        metavar="NAME",
        help=(
            "run readiness controls against account NAME: 'moto' (a mocked account, no AWS needed) "
            "or a name configured in [tool.prr.accounts.NAME] of pyproject.toml or prr.toml; "
            "repeat it to run over several accounts (tests then run once per account)"
        ),
    )
    group.addoption(
        "--prr-org",
        dest="prr_org",
        metavar="NAME",
        help=(
            "run readiness controls against every member account of the AWS Organization "
            "configured in [tool.prr.organizations.NAME]: discovered, each read through its "
            "member_role, one matrix over all of them"
        ),
    )
    group.addoption(
        "--prr-shard",
        dest="prr_shard",
        metavar="ACCOUNTS",
        help=(
            "with --prr-org: read only these members, ACCOUNT_ID or ACCOUNT_ID:REGION, "
            "comma-separated; what `prr plan` gives each CI job"
        ),
    )
    group.addoption(
        "--prr-max-accounts",
        dest="prr_max_accounts",
        metavar="K",
        type=int,
        default=8,
        help="read at most K accounts at once in a run over several (default 8)",
    )
    group.addoption(
        "--prr-json",
        dest="prr_json",
        metavar="PATH",
        help="write the control-coverage matrix (prr-results/1 JSON) to PATH",
    )
    group.addoption(
        "--prr-html",
        dest="prr_html",
        metavar="PATH",
        help="write a self-contained HTML report (matrix, frameworks, every resource) to PATH",
    )
    group.addoption(
        "--prr-csv",
        dest="prr_csv",
        metavar="PATH",
        help="write the results as CSV, one row per control and resource, to PATH",
    )
    group.addoption(
        "--prr-markdown",
        dest="prr_markdown",
        metavar="PATH",
        help="write a Markdown readiness checklist (for a pull-request comment) to PATH",
    )
    group.addoption(
        "--prr-evidence",
        dest="prr_evidence",
        metavar="DIR",
        help=(
            "write an evidence bundle to DIR: snapshot, results, JUnit XML, one file per "
            "control and manifest.json with SHA-256s; check it later with `prr verify DIR`"
        ),
    )
    group.addoption(
        "--prr-sign-key",
        dest="prr_sign_key",
        metavar="PEM",
        help=(
            "sign the evidence bundle's manifest.json with this PEM private key (Ed25519, "
            "ECDSA P-256 or RSA 2048+; an encrypted key's passphrase in "
            "$PRR_SIGN_KEY_PASSPHRASE), writing manifest.json.sig"
        ),
    )
    group.addoption(
        "--prr-sign-kms",
        dest="prr_sign_kms",
        metavar="KEY",
        help=(
            "sign the evidence bundle's manifest.json with this asymmetric AWS KMS key of the "
            "account (id, ARN or alias; ECC_NIST_P256 or RSA): kms:Sign is then the one write "
            "besides --prr-securityhub-import that pytest-prr makes"
        ),
    )
    group.addoption(
        "--prr-securityhub-import",
        action="store_true",
        dest="prr_securityhub_import",
        help=(
            "after the run, send failed and errored resources to AWS Security Hub as ASFF findings "
            "(BatchImportFindings, a write pytest-prr makes only when asked)"
        ),
    )
    group.addoption(
        "--prr-snapshot-out",
        dest="prr_snapshot_out",
        metavar="PATH",
        help="save the account snapshot to PATH (and its SHA-256 to PATH.sha256)",
    )
    group.addoption(
        "--prr-snapshot",
        dest="prr_snapshot",
        metavar="PATH",
        help="evaluate the snapshot stored at PATH, without any AWS access",
    )
    group.addoption(
        "--prr-snapshot-unverified",
        action="store_true",
        dest="prr_snapshot_unverified",
        help=(
            "evaluate a --prr-snapshot whose PATH.sha256 is missing, so that nothing shows it "
            "unaltered (the results record snapshot_verified: false)"
        ),
    )
    group.addoption(
        "--prr-controls",
        dest="prr_controls",
        metavar="IDS",
        help="built-in controls to run: comma-separated IDs or globs, e.g. SEC-*,IAM-02",
    )
    group.addoption(
        "--prr-fail-on",
        dest="prr_fail_on",
        metavar="STATUSES",
        help="which controls make the run exit 1, whatever pytest thought of their tests (an "
        "xfail included): STATUS[:SEVERITY],... with STATUS fail, error or not_tested and the "
        "lowest SEVERITY; default fail,error; 'none' for a report-only run",
    )
    group.addoption(
        "--prr-no-builtin",
        action="store_true",
        dest="prr_no_builtin",
        help="run only your own tests, none of the built-in controls",
    )
    group.addoption(
        "--prr-allow-writes",
        action="store_true",
        dest="prr_allow_writes",
        help=(
            "let prr_session clients make write calls in live and endpoint modes (logged; "
            "by default every non-read operation is refused before it is sent)"
        ),
    )
    group.addoption(
        "--prr-template",
        action="append",
        dest="prr_templates",
        metavar="PATH",
        help=(
            "deploy the SAM, CloudFormation or `cdk synth` template at PATH into the embedded moto "
            "account and run the readiness controls on it, before it ships (repeatable; implies "
            "--prr-account=moto)"
        ),
    )
    group.addoption(
        "--prr-template-param",
        action="append",
        dest="prr_template_params",
        metavar="KEY=VALUE",
        default=[],
        help="a template parameter value, KEY=VALUE (repeatable; wins over files)",
    )
    group.addoption(
        "--prr-template-params",
        action="append",
        dest="prr_template_param_files",
        metavar="FILE",
        default=[],
        help=(
            "a file of template parameter values: CloudFormation's parameters JSON, "
            '{"Parameters": {...}}, or samconfig.toml'
        ),
    )
    parser.addini(
        "prr_template",
        "templates to deploy into the embedded moto account and judge, as --prr-template",
        type="paths",
        default=[],
    )
    parser.addini(
        "prr_catalog",
        "YAML file(s) of your own controls, added to the built-in catalog",
        type="paths",
        default=[],
    )
    parser.addini(
        "prr_attestations",
        "YAML file of attestations for the process controls (PRC-*)",
        type="paths",
        default=[],
    )
    parser.addini(
        "prr_workload",
        (
            "the workload this run is about: only attestations whose scope is this workload count "
            "(without it, any attestation counts and the run warns)"
        ),
        type="string",
        default="",
    )
    parser.addini(
        "prr_waivers",
        (
            "YAML file of waivers (risk acceptances): a FAIL of a control on the resources, or "
            "from the tests, a waiver names becomes 'waived' until the waiver expires"
        ),
        type="paths",
        default=[],
    )
