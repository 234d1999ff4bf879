"""Other projects' Lambda check test cases, translated into pytest-prr snapshots.

Each :class:`PeerCase` is one test case of Prowler (``prowler-cloud/prowler``, the
``awslambda`` checks) or Checkov (``bridgecrewio/checkov``, the CloudFormation and Terraform
Lambda checks): the peer's input, translated into the snapshot the pytest-prr collector would
take of the deployed function, the peer's verdict, and the verdict that spec v1.1
(``shared/spec/controls.md``) requires of pytest-prr. Where the two differ, ``why`` says who
is right and why; ``note`` records how an input was translated where that is not obvious.

Translation rules, as the collector and AWS write the data:
- Environment variables go through :func:`redact_environment`, as the collector stores them.
- A permission (Prowler's ``add_permission``, CloudFormation ``AWS::Lambda::Permission``,
  Terraform ``aws_lambda_permission``) becomes the statement Lambda's AddPermission writes:
  ``*`` stays ``*``, an account becomes ``{"AWS": "arn:aws:iam::ACCOUNT:root"}``, an IAM ARN
  ``{"AWS": ARN}``, a service ``{"Service": NAME}``; SourceArn becomes
  ``ArnLike AWS:SourceArn``, SourceAccount ``StringEquals AWS:SourceAccount``, PrincipalOrgID
  ``StringEquals aws:PrincipalOrgID``, FunctionUrlAuthType
  ``StringEquals lambda:FunctionUrlAuthType``. A permission or URL with a qualifier is
  attached to that alias.
- A field AWS fills in when the template leaves it out gets the value AWS returns (tracing
  ``PassThrough``; a code signing config's ``UntrustedArtifactOnDeployment`` ``Warn``).
- Prowler's resources in eu-west-1 are placed in the snapshot's region (us-east-1); both
  projects' account 123456789012 is the snapshot's account.
- SEC-01 cases are evaluated on the date of the peer's code that was read (its commit date),
  so that a runtime the peer calls supported is judged on the peer's own day.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pytest_prr.snapshot.model import Snapshot
from pytest_prr.snapshot.redact import redact_environment
from snapshots import ACCOUNT_ID, REGION, build_snapshot, function_arn, make_function

PROWLER = "prowler-cloud/prowler"
#: The Prowler snapshot read, committed 2026-08-21.
PROWLER_COMMIT = "3e000faa3109230b748e4418a13c11c9e59f5cfb"
PROWLER_DATE = "2026-08-21T00:00:00Z"
#: The last Prowler commit whose secret scan was detect-secrets (5dac8a0a53 replaced it with
#: Kingfisher on 2026-06-30 and changed the SEC-02 cases' inputs).
PROWLER_DETECT_SECRETS_COMMIT = "ed1fec88664b80b502b668aa7c08033e5763e088"
CHECKOV = "bridgecrewio/checkov"
#: The Checkov snapshot read, committed 2026-08-20.
CHECKOV_COMMIT = "03d5fdad8d6154b1565799a7b1fb8070c158866f"
CHECKOV_DATE = "2026-08-20T00:00:00Z"

PROWLER_TESTS = "tests/providers/aws/services/awslambda"
CFN_TESTS = "tests/cloudformation/checks/resource/aws"
TF_TESTS = "tests/terraform/checks/resource/aws"

#: A peer's verdict in pytest-prr's terms. UNKNOWN (Checkov: the check does not judge this
#: resource) and NO_RESULT (Prowler: no finding for the resource) both mean "not my concern";
#: MANUAL (Prowler: could not decide) is pytest-prr's ERROR.
PEER_EQUIVALENT = {
    "PASSED": "pass",
    "FAILED": "fail",
    "UNKNOWN": "not_applicable",
    "NO_RESULT": "not_applicable",
    "MANUAL": "error",
}
VERDICTS = ("pass", "fail", "not_applicable", "error")


@dataclass(frozen=True)
class PeerCase:
    """One peer test case, its translation and both verdicts."""

    id: str
    peer: str
    repo: str
    commit: str
    peer_check: str
    #: The peer's test file, and its test (for Checkov, the resource it names).
    test_path: str
    test: str
    #: The file holding the input: Checkov's example template, else the test file.
    input_path: str
    control: str
    peer_verdict: str
    expected: str
    #: ``make_function`` fields (``FunctionName`` names it); the environment separately.
    function: dict[str, Any] = field(default_factory=dict)
    #: Plaintext variables, redacted as the collector does; None for no variables.
    environment: dict[str, str] | None = None
    #: Function fields the snapshot lacks entirely (not read, or not modelled by the peer).
    absent: tuple[str, ...] = ()
    #: Region sections replaced whole (``ec2``, ``guardrails``...).
    sections: dict[str, Any] = field(default_factory=dict)
    #: The region's code signing configs, by ARN.
    signing_configs: dict[str, Any] = field(default_factory=dict)
    taken_at: str | None = None
    #: Expected verdicts of other controls on the same input; no peer verdict to compare.
    also: dict[str, str] = field(default_factory=dict)
    why: str = ""
    note: str = ""

    @property
    def disagrees(self) -> bool:
        return PEER_EQUIVALENT[self.peer_verdict] != self.expected

    def snapshot(self) -> Snapshot:
        """A fresh snapshot of the one translated function (and its region's sections)."""
        fields = copy.deepcopy(self.function)
        name = fields.pop("FunctionName", "app")
        function = make_function(name, **fields)
        function["Environment"] = redact_environment(self.environment or {})
        for key in self.absent:
            del function[key]
        snapshot = build_snapshot([function], **copy.deepcopy(self.sections))
        lambda_section = snapshot.data["regions"][REGION]["lambda"]
        lambda_section["code_signing_configs"] = copy.deepcopy(self.signing_configs)
        if self.taken_at is not None:
            snapshot.data["taken_at"] = self.taken_at
        return snapshot


# -- translation helpers ------------------------------------------------------------------


def statement(
    principal: str,
    function: str,
    *,
    sid: str,
    action: str = "lambda:InvokeFunction",
    qualifier: str | None = None,
    source_arn: str | None = None,
    source_account: str | None = None,
    org_id: str | None = None,
    url_auth_type: str | None = None,
) -> dict[str, Any]:
    """The policy statement Lambda's AddPermission writes for these parameters."""
    if principal == "*":
        written: Any = "*"
    elif principal.isdigit():
        written = {"AWS": f"arn:aws:iam::{principal}:root"}
    elif principal.startswith("arn:"):
        written = {"AWS": principal}
    else:
        written = {"Service": principal}
    resource = function_arn(function) + (f":{qualifier}" if qualifier else "")
    entry: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": written,
        "Action": action,
        "Resource": resource,
    }
    condition: dict[str, dict[str, str]] = {}
    if source_arn is not None:
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
    if source_account is not None:
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = source_account
    if org_id is not None:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org_id
    if url_auth_type is not None:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = url_auth_type
    if condition:
        entry["Condition"] = condition
    return entry


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


def alias(function: str, name: str, **fields: Any) -> dict[str, Any]:
    """An alias as the collector writes it: ListAliases' fields, its policy and URL."""
    entry: dict[str, Any] = {
        "AliasArn": f"{function_arn(function)}:{name}",
        "Name": name,
        "FunctionVersion": "1",
        "Policy": None,
        "FunctionUrl": None,
    }
    entry.update(fields)
    return entry


def url(auth_type: str) -> dict[str, str]:
    return {"FunctionUrl": "https://abcdefgh.lambda-url.us-east-1.on.aws/", "AuthType": auth_type}


def subnets(*zones: str) -> dict[str, Any]:
    """An ``ec2`` section with one described subnet per zone, ``subnet-1``, ``subnet-2``..."""
    return {
        "security_groups": {"sg-1": {"GroupId": "sg-1", "IpPermissions": []}},
        "subnets": {
            f"subnet-{i}": {"SubnetId": f"subnet-{i}", "AvailabilityZone": zone, "VpcId": "vpc-1"}
            for i, zone in enumerate(zones, 1)
        },
    }


def vpc(*subnet_ids: str) -> dict[str, Any]:
    return {"VpcId": "vpc-1", "SubnetIds": list(subnet_ids), "SecurityGroupIds": ["sg-1"]}


#: What GetEventSelectors returns for a trail whose selectors were never set.
MANAGEMENT_ONLY = [
    {
        "ReadWriteType": "All",
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    }
]


def created_trail(**fields: Any) -> dict[str, Any]:
    """Prowler's ``create_trail(Name="test-trail", IsMultiRegionTrail=False)`` as the
    collector reads it: CreateTrail does not start logging, and no test calls StartLogging."""
    trail = {
        "Name": "test-trail",
        "HomeRegion": REGION,
        "IsMultiRegionTrail": False,
        "IsOrganizationTrail": False,
        "LogFileValidationEnabled": False,
        "IsLogging": False,
        "EventSelectors": MANAGEMENT_ONLY,
        "AdvancedEventSelectors": [],
    }
    trail.update(fields)
    return {"cloudtrail": {f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/test-trail": trail}}


def prowler(
    check: str,
    test: str,
    control: str,
    peer_verdict: str,
    expected: str,
    *,
    commit: str = PROWLER_COMMIT,
    **fields: Any,
) -> PeerCase:
    test_path = f"{PROWLER_TESTS}/{check}/{check}_test.py"
    suffix = "" if commit == PROWLER_COMMIT else f"@{commit[:10]}"
    return PeerCase(
        id=f"prowler:{check}:{test}{suffix}",
        peer="prowler",
        repo=PROWLER,
        commit=commit,
        peer_check=f"prowler/providers/aws/services/awslambda/{check}/{check}.py",
        test_path=test_path,
        test=test,
        input_path=test_path,
        control=control,
        peer_verdict=peer_verdict,
        expected=expected,
        **fields,
    )


#: Checkov check ID -> the name of its check class, test module and example folder.
CHECKOV_CHECKS = {
    "CKV_AWS_45": "LambdaEnvironmentCredentials",
    "CKV_AWS_173": "LambdaEnvironmentEncryptionSettings",
    "CKV_AWS_115": "LambdaFunctionLevelConcurrentExecutionLimit",
    "CKV_AWS_116": "LambdaDLQConfigured",
    "CKV_AWS_117": "LambdaInVPC",
    "CKV_AWS_258": "LambdaFunctionURLAuth",
    "CKV_AWS_364": "LambdaServicePermission",
    "CKV_AWS_301": "LambdaFunctionIsNotPublic",
    "CKV_AWS_272": "LambdaCodeSigningConfigured",
    "CKV_AWS_50": "LambdaXrayEnabled",
    "CKV_AWS_363": "DeprecatedLambdaRuntime",
}


def checkov(
    ckv: str,
    framework: str,
    subject: str,
    control: str,
    peer_verdict: str,
    expected: str,
    *,
    example: str | None = None,
    test: str = "test_summary",
    **fields: Any,
) -> PeerCase:
    """A Checkov case: ``subject`` is the resource its test names (``example`` the template
    under ``example_<Check>/``), or, for a test with inline HCL, the test method."""
    name = CHECKOV_CHECKS[ckv]
    folder = CFN_TESTS if framework == "cloudformation" else TF_TESTS
    test_path = f"{folder}/test_{name}.py"
    return PeerCase(
        id=f"checkov:{ckv}:{framework}:{subject}",
        peer="checkov",
        repo=CHECKOV,
        commit=CHECKOV_COMMIT,
        peer_check=f"checkov/{framework}/checks/resource/aws/{name}.py",
        test_path=test_path,
        test=f"Test{name}.{test}" + (f" [{subject}]" if example else ""),
        input_path=f"{folder}/example_{name}/{example}" if example else test_path,
        control=control,
        peer_verdict=peer_verdict,
        expected=expected,
        **fields,
    )


# -- reasons shared by several cases --------------------------------------------------------

NO_VARIABLES = (
    "No environment variables: the spec makes {control} not applicable, the peer reports "
    "PASS. Nothing is to fix either way, but a PASS would be evidence of a control that had "
    "nothing to act on; spec v1.1's roll-up counts only a pass as positive evidence and keeps "
    "not_applicable apart for exactly this reason. The spec is right for pytest-prr."
)
NO_ASYNC_SOURCE = (
    "The peer judges the function alone. A DLQ (or OnFailure destination) only ever receives "
    "events of asynchronous invocations (Lambda Developer Guide, asynchronous invocation: "
    "dead-letter queues); the input has no asynchronous source (no SNS subscription, "
    "EventBridge rule or schedule, S3 notification, Logs subscription filter, destination or "
    "event invoke config), so spec REL-01 is not applicable whether or not a DLQ is set. "
    "Synchronous callers and event source mappings never use the function's DLQ. The spec "
    "is right: a DLQ on such a function is neither needed nor evidence of anything."
)
STARTED_NEVER = (
    "The test creates the trail and sets its selectors but never calls StartLogging; a trail "
    "made with CreateTrail records nothing until StartLogging (CloudTrail API reference; moto "
    "models IsLogging false). Spec GOV-02 needs a *logging* trail with a Lambda data-event "
    "selector; Prowler's check reads the selectors and ignores the trail status, so it passes "
    "a trail that records no invocation. The spec is right."
)
KEY_WITHOUT_VARIABLES = (
    "Checkov fails a function that has no environment variables when kms_key_arn is set "
    "(the check's comment: 'no env vars so should be no key as that causes state mismatch'), "
    "a Terraform drift concern, not data protection. Spec SEC-03 asks whether variables are "
    "encrypted with a customer-managed key and is not applicable without variables. The spec "
    "is right for an account audit."
)


def no_variables(control: str) -> str:
    return NO_VARIABLES.format(control=control)


# -- Prowler --------------------------------------------------------------------------------

NOT_PUBLIC = "awslambda_function_not_publicly_accessible"
URL_PUBLIC = "awslambda_function_url_public"
SECRETS = "awslambda_function_no_secrets_in_variables"
CMK = "awslambda_function_env_vars_not_encrypted_with_cmk"
LAYERS = "awslambda_function_using_cross_account_layers"
RUNTIMES = "awslambda_function_using_supported_runtimes"
DLQ = "awslambda_function_no_dead_letter_queue"
INSIDE_VPC = "awslambda_function_inside_vpc"
MULTI_AZ = "awslambda_function_vpc_multi_az"
TRAIL = "awslambda_function_invoke_api_operations_cloudtrail_logging_enabled"

FN = "test-lambda"
FN_ARN = function_arn(FN)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
TARGET_GROUP = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}:targetgroup/test-public-lambda-tg/"
    "50dc6c495c0c9188"
)

PROWLER_CASES = [
    # SEC-05: awslambda_function_not_publicly_accessible
    prowler(
        NOT_PUBLIC,
        "test_function_public",
        "SEC-05",
        "FAILED",
        "fail",
        function={"FunctionName": FN, "Policy": policy(statement("*", FN, sid="public-access"))},
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_public_with_source_account",
        "SEC-05",
        "PASSED",
        "pass",
        function={
            "FunctionName": FN,
            "Policy": policy(
                statement(
                    "*",
                    FN,
                    sid="non-public-access",
                    source_arn=FN_ARN,
                    source_account=ACCOUNT_ID,
                )
            ),
        },
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_not_public",
        "SEC-05",
        "PASSED",
        "pass",
        function={
            "FunctionName": FN,
            "Policy": policy(statement(ACCOUNT_ID, FN, sid="public-access", source_arn=FN_ARN)),
        },
        also={"SEC-08": "pass"},
        note="The principal is the function's own account: SEC-08 passes it too.",
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_public_with_canonical",
        "SEC-05",
        "FAILED",
        "pass",
        function={
            "FunctionName": FN,
            "Policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "public-access",
                        "Principal": {"CanonicalUser": ["*"]},
                        "Effect": "Allow",
                        "Action": ["lambda:InvokeFunction"],
                        "Resource": [FN_ARN],
                    }
                ],
            },
        },
        why=(
            "Spec SEC-05 calls a statement public when its principal is '*' or {'AWS': '*'}; "
            "a CanonicalUser principal is neither, so SEC-05 passes by the letter of the spec. "
            "The input cannot exist on a real function: a Lambda policy is written only by "
            "AddPermission, whose Principal is a service, an account or IAM ARN, or '*' "
            "(CanonicalUser identifies S3 accounts), so the test feeds a hand-made policy to a "
            "MagicMock. Prowler's generic is_policy_public treats any '*' as public. The spec is "
            "right for every policy Lambda can hold; counting any '*' principal as public would "
            "be a harmless hardening the spec may adopt."
        ),
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_public_with_alb",
        "SEC-05",
        "FAILED",
        "fail",
        function={
            "FunctionName": "test-public-lambda",
            "Policy": policy(
                statement("*", "test-public-lambda", sid="public-access"),
                statement(
                    "elasticloadbalancing.amazonaws.com",
                    "test-public-lambda",
                    sid="alb-access",
                    source_arn=TARGET_GROUP,
                ),
            ),
        },
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_could_be_invoked_by_specific_aws_account",
        "SEC-05",
        "PASSED",
        "pass",
        function={
            "FunctionName": FN,
            "Policy": {
                "Version": "2012-10-17",
                "Id": "default",
                "Statement": [
                    {
                        "Sid": "awslambda-myLambdaScript-LambdaInvokePermission",
                        "Effect": "Allow",
                        "Principal": {"Service": "ses.amazonaws.com"},
                        "Action": "lambda:InvokeFunction",
                        "Resource": FN_ARN,
                        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT_ID}},
                    }
                ],
            },
        },
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_could_be_invoked_by_specific_other_aws_account",
        "SEC-05",
        "PASSED",
        "pass",
        function={
            "FunctionName": FN,
            "Policy": {
                "Version": "2012-10-17",
                "Id": "default",
                "Statement": [
                    {
                        "Sid": "awslambda-myLambdaScript-LambdaInvokePermission",
                        "Effect": "Allow",
                        "Principal": {"Service": "ses.amazonaws.com"},
                        "Action": "lambda:InvokeFunction",
                        "Resource": FN_ARN,
                        "Condition": {"StringEquals": {"AWS:SourceAccount": "000000000000"}},
                    }
                ],
            },
        },
        also={"SEC-08": "pass"},
        note=(
            "The service grant is scoped to one (other) account, so it is not public; SEC-08 "
            "judges account principals only, and this principal is a service."
        ),
    ),
    prowler(
        NOT_PUBLIC,
        "test_function_public_policy_with_several_statements",
        "SEC-05",
        "FAILED",
        "fail",
        function={
            "FunctionName": FN,
            "Policy": {
                "Version": "2012-10-17",
                "Id": "default",
                "Statement": [
                    {
                        "Sid": "AllowExecutionFromAPIGateway",
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "lambda:InvokeFunction",
                        "Resource": f"arn:aws:lambda:eu-central-1:{ACCOUNT_ID}:function:foo",
                        "Condition": {
                            "ArnLike": {
                                "AWS:SourceArn": (
                                    f"arn:aws:execute-api:eu-central-1:{ACCOUNT_ID}:bar/*/GET/proxy+"
                                )
                            }
                        },
                    },
                    {
                        "Sid": "FunctionURLAllowPublicAccess",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "lambda:InvokeFunctionUrl",
                        "Resource": f"arn:aws:lambda:eu-central-1:{ACCOUNT_ID}:function:foo",
                        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
                    },
                ],
            },
        },
    ),
    # SEC-06: awslambda_function_url_public
    prowler(
        URL_PUBLIC,
        "test_function_public_url",
        "SEC-06",
        "FAILED",
        "fail",
        function={"FunctionName": FN, "Runtime": "nodejs4.3", "FunctionUrl": url("NONE")},
    ),
    prowler(
        URL_PUBLIC,
        "test_function_private_url",
        "SEC-06",
        "PASSED",
        "pass",
        function={"FunctionName": FN, "Runtime": "python3.9", "FunctionUrl": url("AWS_IAM")},
    ),
    # SEC-02: awslambda_function_no_secrets_in_variables (Kingfisher)
    prowler(
        SECRETS,
        "test_function_no_variables",
        "SEC-02",
        "PASSED",
        "not_applicable",
        function={"FunctionName": FN},
        why=no_variables("SEC-02"),
    ),
    prowler(
        SECRETS,
        "test_function_secrets_in_keyword",
        "SEC-02",
        "FAILED",
        "fail",
        function={"FunctionName": FN},
        environment={"db_password": "Tr0ub4dor3xKq9vLmZ"},
    ),
    prowler(
        SECRETS,
        "test_function_secrets_in_keyword_and_variable",
        "SEC-02",
        "FAILED",
        "fail",
        function={"FunctionName": FN},
        environment={"db_password": JWT},
    ),
    prowler(
        SECRETS,
        "test_function_secrets_in_variables_telegram_token",
        "SEC-02",
        "FAILED",
        "fail",
        function={"FunctionName": FN},
        environment={"TELEGRAM_BOT_TOKEN": JWT},
    ),
    prowler(
        SECRETS,
        "test_function_with_verified_secret",
        "SEC-02",
        "FAILED",
        "fail",
        function={"FunctionName": FN},
        environment={"db_password": "test-value"},
        note="Prowler's FAIL comes from a mocked scan result; the input alone fails SEC-02.",
    ),
    prowler(
        SECRETS,
        "test_function_no_secrets_in_variables",
        "SEC-02",
        "PASSED",
        "pass",
        function={"FunctionName": FN},
        environment={"db_username": "test-user"},
    ),
    prowler(
        SECRETS,
        "test_scan_failure_reports_manual_not_pass",
        "SEC-02",
        "MANUAL",
        "fail",
        function={"FunctionName": FN},
        environment={"db_password": "test-value"},
        why=(
            "Prowler's MANUAL comes from a mocked Kingfisher crash, not from the input. "
            "pytest-prr's rule needs no external scanner: db_password is a secret-looking name "
            "with a non-empty value that is no reference, a violation certain from the data "
            "read, so spec SEC-02 is FAIL. Both refuse to PASS what they could not scan; "
            "pytest-prr has nothing it cannot scan."
        ),
    ),
    # SEC-02: the same test file before Kingfisher, with detect-secrets
    prowler(
        SECRETS,
        "test_function_secrets_in_keyword",
        "SEC-02",
        "FAILED",
        "fail",
        commit=PROWLER_DETECT_SECRETS_COMMIT,
        function={"FunctionName": FN},
        environment={"db_password": "test-password"},
    ),
    prowler(
        SECRETS,
        "test_function_secrets_in_keyword_and_variable",
        "SEC-02",
        "FAILED",
        "fail",
        commit=PROWLER_DETECT_SECRETS_COMMIT,
        function={"FunctionName": FN},
        environment={"db_password": "srv://admin:pass@db"},
    ),
    prowler(
        SECRETS,
        "test_function_secrets_in_variables_telegram_token",
        "SEC-02",
        "PASSED",
        "fail",
        commit=PROWLER_DETECT_SECRETS_COMMIT,
        function={"FunctionName": FN},
        environment={"TELEGRAM_BOT_TOKEN": "telegram-token"},
        why=(
            "Spec SEC-02: a NAME containing TOKEN with a non-empty value that is not a "
            "reference fails, whatever the value looks like; detect-secrets' keyword plugin took "
            "'telegram-token' for a placeholder. pytest-prr cannot tell a placeholder from a "
            "short real token and prefers a waiver to a leak (see redact.py). Prowler replaced "
            "this case with a real-looking token that FAILs when it moved to Kingfisher "
            "(commit 5dac8a0a53). The spec is right."
        ),
    ),
    # SEC-03: awslambda_function_env_vars_not_encrypted_with_cmk
    prowler(
        CMK,
        "test_function_no_env_vars",
        "SEC-03",
        "PASSED",
        "not_applicable",
        function={"FunctionName": "test-fn-no-env", "Runtime": "python3.11"},
        why=no_variables("SEC-03"),
    ),
    prowler(
        CMK,
        "test_function_env_vars_no_kms",
        "SEC-03",
        "FAILED",
        "fail",
        function={"FunctionName": "test-fn-env-no-kms", "Runtime": "python3.11"},
        environment={"DB_HOST": "localhost"},
    ),
    prowler(
        CMK,
        "test_function_env_vars_with_cmk",
        "SEC-03",
        "PASSED",
        "pass",
        function={
            "FunctionName": "test-fn-env-with-kms",
            "Runtime": "python3.11",
            "KMSKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/test-key-id",
        },
        environment={"DB_HOST": "localhost"},
    ),
    # SEC-07: awslambda_function_using_cross_account_layers
    prowler(
        LAYERS,
        "test_function_no_layers",
        "SEC-07",
        "PASSED",
        "not_applicable",
        function={"FunctionName": "test-fn-no-layers", "Layers": []},
        why=(
            "No layers: spec SEC-07 is not applicable, Prowler reports PASS. As for the "
            "other scope differences, a PASS would be evidence about layers the function does "
            "not have; the spec keeps not_applicable apart from pass in its roll-up."
        ),
    ),
    prowler(
        LAYERS,
        "test_function_own_account_layer",
        "SEC-07",
        "PASSED",
        "pass",
        function={
            "FunctionName": "test-fn-own-layer",
            "Layers": [{"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:my-layer:1"}],
        },
    ),
    prowler(
        LAYERS,
        "test_function_cross_account_layer",
        "SEC-07",
        "FAILED",
        "fail",
        function={
            "FunctionName": "test-fn-cross-layer",
            "Layers": [{"Arn": f"arn:aws:lambda:{REGION}:999999999999:layer:ext-layer:1"}],
        },
    ),
    # SEC-01: awslambda_function_using_supported_runtimes
    prowler(
        RUNTIMES,
        "test_function_obsolete_runtime",
        "SEC-01",
        "FAILED",
        "fail",
        function={"FunctionName": FN, "Runtime": "nodejs4.3"},
        taken_at=PROWLER_DATE,
    ),
    prowler(
        RUNTIMES,
        "test_function_supported_runtime",
        "SEC-01",
        "PASSED",
        "fail",
        function={"FunctionName": FN, "Runtime": "python3.9"},
        taken_at=PROWLER_DATE,
        why=(
            "AWS deprecated python3.9 on 2025-12-15 (Lambda runtimes page), eight months "
            "before the Prowler code read. Prowler's obsolete list (the check's default and the "
            "list in the test's audit_config) stops at python3.8, so it calls a runtime "
            "without security patches supported. The spec, which dates each runtime from the "
            "AWS table, is right."
        ),
    ),
    prowler(
        RUNTIMES,
        "test_function_no_runtime",
        "SEC-01",
        "NO_RESULT",
        "error",
        function={"FunctionName": FN},
        absent=("Runtime", "PackageType"),
        taken_at=PROWLER_DATE,
        note="Prowler's Function model holds neither a runtime nor a package type here.",
        why=(
            "Prowler skips a function without Runtime, assuming a container image, but never "
            "reads PackageType. Only PackageType Image makes SEC-01 not applicable; here "
            "neither field is known, and the spec's conventions make a missing field that a "
            "rule needs unreadable data: ERROR, never a silent N/A or PASS. The spec is right: "
            "a .zip function whose Runtime was not read may well run a deprecated runtime."
        ),
    ),
    # REL-01: awslambda_function_no_dead_letter_queue
    prowler(
        DLQ,
        "test_function_without_dlq",
        "REL-01",
        "FAILED",
        "not_applicable",
        function={"FunctionName": "test-function-no-dlq", "Runtime": "python3.11"},
        why=NO_ASYNC_SOURCE,
    ),
    prowler(
        DLQ,
        "test_function_with_sqs_dlq",
        "REL-01",
        "PASSED",
        "not_applicable",
        function={
            "FunctionName": "test-function-with-dlq",
            "Runtime": "python3.11",
            "DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:test-dlq"},
        },
        why=NO_ASYNC_SOURCE,
    ),
    # NET-01: awslambda_function_inside_vpc
    prowler(
        INSIDE_VPC,
        "test_function_inside_vpc",
        "NET-01",
        "PASSED",
        "pass",
        function={
            "FunctionName": "test_function",
            "VpcConfig": {
                "VpcId": "vpc-123abc",
                "SubnetIds": ["subnet-12345678"],
                "SecurityGroupIds": ["sg-12345678"],
            },
        },
    ),
    prowler(
        INSIDE_VPC,
        "test_function_outside_vpc",
        "NET-01",
        "FAILED",
        "fail",
        function={"FunctionName": "test_function"},
    ),
    # NET-02: awslambda_function_vpc_multi_az
    prowler(
        MULTI_AZ,
        "test_function_outside_vpc",
        "NET-02",
        "FAILED",
        "not_applicable",
        function={"FunctionName": "test_function_outside_vpc"},
        why=(
            "Spec NET-02 is not applicable outside a VPC; NET-01 fails instead, so the "
            "finding is reported once. Prowler reports this FAIL only when "
            "awslambda_function_inside_vpc did not run in the same scan; when it did, Prowler "
            "reports nothing (test_function_no_vpc_pass_to_avoid_fail_twice), as the spec does."
        ),
    ),
    prowler(
        MULTI_AZ,
        "test_function_in_vpc_single_az",
        "NET-02",
        "FAILED",
        "fail",
        function={"FunctionName": "test_function_in_vpc_single_az", "VpcConfig": vpc("subnet-1")},
        sections={"ec2": subnets("us-east-1a")},
    ),
    prowler(
        MULTI_AZ,
        "test_function_in_vpc_multiple_az",
        "NET-02",
        "PASSED",
        "pass",
        function={
            "FunctionName": "test_function_in_vpc_multiple_az",
            "VpcConfig": vpc("subnet-1", "subnet-2"),
        },
        sections={"ec2": subnets("us-east-1a", "us-east-1b")},
    ),
    prowler(
        MULTI_AZ,
        "test_function_with_multiple_subnets_in_same_az",
        "NET-02",
        "FAILED",
        "fail",
        function={
            "FunctionName": "test_function_in_vpc_multiple_subnets_same_az",
            "VpcConfig": vpc("subnet-1", "subnet-2"),
        },
        sections={"ec2": subnets("us-east-1a", "us-east-1a")},
    ),
    prowler(
        MULTI_AZ,
        "test_function_no_vpc_pass_to_avoid_fail_twice",
        "NET-02",
        "NO_RESULT",
        "not_applicable",
        function={"FunctionName": "test_function_no_vpc_pass_to_avoid_fail_twice"},
    ),
    prowler(
        MULTI_AZ,
        "test_resource_filtered",
        "NET-02",
        "FAILED",
        "error",
        function={
            "FunctionName": "test_function_resource_filtered",
            "VpcConfig": vpc("subnet-1", "subnet-2"),
        },
        sections={"ec2": {"security_groups": {}, "subnets": {}}},
        note="Subnets in two zones exist, but the scan (--resource-arn) never described them.",
        why=(
            "The subnets were never read. Spec: when data a rule needs was not read the "
            "result is ERROR naming the read, never a FAIL or PASS resting on its absence. "
            "Prowler FAILs, and its own test says so: 'This should be a PASS, but the resource "
            "is filtered so subnets are filtered and this is a bug'. The spec is right."
        ),
    ),
    # GOV-02: awslambda_function_invoke_api_operations_cloudtrail_logging_enabled
    prowler(
        TRAIL,
        "test_lambda_not_recorded_by_cloudtrail",
        "GOV-02",
        "FAILED",
        "fail",
        function={"FunctionName": FN, "Runtime": "python3.9"},
        sections={"guardrails": created_trail()},
    ),
    prowler(
        TRAIL,
        "test_lambda_recorded_by_cloudtrail_classic_event_selector",
        "GOV-02",
        "PASSED",
        "fail",
        function={"FunctionName": FN, "Runtime": "python3.9"},
        sections={
            "guardrails": created_trail(
                EventSelectors=[
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "DataResources": [{"Type": "AWS::Lambda::Function", "Values": [FN_ARN]}],
                    }
                ]
            )
        },
        why=STARTED_NEVER,
    ),
    prowler(
        TRAIL,
        "test_lambda_recorded_by_cloudtrail_advanced_event_selector",
        "GOV-02",
        "PASSED",
        "fail",
        function={"FunctionName": FN, "Runtime": "python3.9"},
        sections={
            "guardrails": created_trail(
                EventSelectors=[],
                AdvancedEventSelectors=[
                    {
                        "Name": "lambda",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
                        ],
                    }
                ],
            )
        },
        why=STARTED_NEVER,
    ),
    prowler(
        TRAIL,
        "test_all_lambdas_recorded_by_cloudtrail",
        "GOV-02",
        "PASSED",
        "fail",
        function={"FunctionName": FN, "Runtime": "python3.9"},
        sections={
            "guardrails": created_trail(
                EventSelectors=[
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "DataResources": [
                            {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}
                        ],
                    }
                ]
            )
        },
        why=STARTED_NEVER,
    ),
]


# -- Checkov --------------------------------------------------------------------------------

CFN = "cloudformation"
TF = "terraform"
LAMBDA = "AWS::Lambda::Function"
SAM = "AWS::Serverless::Function"
RESERVED_KEYS = (
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION are reserved keys that "
    "Lambda refuses to set (Developer Guide, defined runtime environment variables), so this "
    "function could not be deployed; translated as written."
)
OTHER_ACCOUNT = "901234567812"
CSC = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:code-signing-config:csc-0123123123abcdef0"
STALE_NODEJS18 = (
    "AWS deprecated nodejs18.x on 2025-09-01 (Lambda runtimes page). CKV_AWS_363 still has "
    "it commented out in its list ('Uncomment on Sept 1, 2025'), so on the date of the Checkov "
    "code read (2026-08-20) it passes a runtime that gets no security patches. The spec, which "
    "dates each runtime from the AWS table, is right."
)


def sam_default(ckv: str, control: str, peer: str, expected: str, **fields: Any) -> PeerCase:
    return checkov(
        ckv, CFN, f"{SAM}.Default", control, peer, expected, example="sam.yaml", **fields
    )


CHECKOV_CASES = [
    # SEC-02: CKV_AWS_45, CloudFormation and SAM
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.Secret",
        "SEC-02",
        "FAILED",
        "fail",
        example="FAIL.yaml",
        function={"FunctionName": "Secret", "Runtime": "nodejs12.x"},
        environment={"key1": "AKIAAAAAAAAAAAAAAAAA", "key2": "Val2"},
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.NoSecret",
        "SEC-02",
        "PASSED",
        "pass",
        example="PASS.yaml",
        function={"FunctionName": "NoSecret", "Runtime": "nodejs12.x"},
        environment={"key1": "notasecret", "key2": "Val2"},
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.NoEnv",
        "SEC-02",
        "PASSED",
        "not_applicable",
        example="PASS.yaml",
        function={"FunctionName": "NoEnv", "Runtime": "nodejs12.x"},
        why=no_variables("SEC-02"),
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.EnvNull",
        "SEC-02",
        "PASSED",
        "not_applicable",
        example="PASS.yaml",
        function={"FunctionName": "EnvNull", "Runtime": "nodejs12.x"},
        note=(
            "'Environment: None' is the YAML string 'None', not a mapping; CloudFormation "
            "would reject it. Translated as a function without variables."
        ),
        why=no_variables("SEC-02"),
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.UnresolvedEnv",
        "SEC-02",
        "PASSED",
        "pass",
        example="PASS.yaml",
        function={"FunctionName": "UnresolvedEnv", "Runtime": "nodejs12.x"},
        environment={
            "MY_COOL_STATE_MACHINE": (
                f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:"
                "MySuperCoolFortyCharLongStateMachineeeee"
            )
        },
        note="!Ref of a state machine resolves to its ARN, which the deployed function holds.",
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.Pass2",
        "SEC-02",
        "PASSED",
        "pass",
        example="PASS2.yaml",
        function={"FunctionName": "NameOfLambdaFunction", "Runtime": "python3.9"},
        environment={
            "STAGE": "staging",
            "LAMBDA": "handler.handlerverylongcustomhandlernameforservi",
        },
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{LAMBDA}.CDKLambda",
        "SEC-02",
        "PASSED",
        "pass",
        example="PASS3.yaml",
        function={"FunctionName": "CDKLambda", "Runtime": "provided.al2"},
        environment={
            "APP_PRIVATE_KEY_SECRET_NAME": "my-secret",
            "TAGS": "git.commit.sha:55e7e7703f17c41f276caf8f1a1b744d674259f8",
        },
        note=(
            "Spec v1.1: a *_SECRET_NAME variable holding a plausible Secrets Manager name is a "
            "reference, not a secret."
        ),
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{SAM}.NoSecret",
        "SEC-02",
        "PASSED",
        "pass",
        example="sam.yaml",
        function={"FunctionName": "NoSecret", "Runtime": "python3.9"},
        environment={"key": "value"},
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{SAM}.NoEnv",
        "SEC-02",
        "PASSED",
        "not_applicable",
        example="sam.yaml",
        function={"FunctionName": "NoEnv", "Runtime": "python3.9"},
        why=no_variables("SEC-02"),
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{SAM}.NoProperties",
        "SEC-02",
        "PASSED",
        "not_applicable",
        example="sam.yaml",
        function={"FunctionName": "NoProperties", "Runtime": "python3.9"},
        note="No Properties: the Globals give handler and runtime, nothing gives variables.",
        why=no_variables("SEC-02"),
    ),
    checkov(
        "CKV_AWS_45",
        CFN,
        f"{SAM}.Secret",
        "SEC-02",
        "FAILED",
        "fail",
        example="sam.yaml",
        function={"FunctionName": "Secret", "Runtime": "python3.9"},
        environment={"key": "value", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE"},
        note="AWS_ACCESS_KEY_ID is a reserved key Lambda refuses to set; translated as written.",
    ),
    # SEC-02: CKV_AWS_45, Terraform
    checkov(
        "CKV_AWS_45",
        TF,
        "aws_lambda_function.pass",
        "SEC-02",
        "PASSED",
        "pass",
        example="main.tf",
        function={"FunctionName": "test-env", "Runtime": "python3.9"},
        environment={"AWS_DEFAULT_REGION": "us-west-2"},
        note=RESERVED_KEYS,
    ),
    checkov(
        "CKV_AWS_45",
        TF,
        "aws_lambda_function.no_env",
        "SEC-02",
        "PASSED",
        "not_applicable",
        example="main.tf",
        function={"FunctionName": "test-env", "Runtime": "python3.9"},
        why=no_variables("SEC-02"),
    ),
    checkov(
        "CKV_AWS_45",
        TF,
        "aws_lambda_function.fail",
        "SEC-02",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "stest-env", "Runtime": "python3.9"},
        environment={
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_DEFAULT_REGION": "us-west-2",
        },
        note=RESERVED_KEYS,
    ),
    # SEC-03: CKV_AWS_173, CloudFormation and SAM
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{LAMBDA}.EnvAndKey",
        "SEC-03",
        "PASSED",
        "pass",
        example="PASS.yaml",
        function={
            "FunctionName": "EnvAndKey",
            "KMSKeyArn": (
                "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
        },
        environment={"key": "value"},
    ),
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{LAMBDA}.NoEnvAndNoKey",
        "SEC-03",
        "PASSED",
        "not_applicable",
        example="PASS.yaml",
        function={"FunctionName": "NoEnvAndNoKey"},
        why=no_variables("SEC-03"),
    ),
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{LAMBDA}.EnvAndNoKey",
        "SEC-03",
        "FAILED",
        "fail",
        example="FAIL.yaml",
        function={"FunctionName": "EnvAndNoKey"},
        environment={"key": "value"},
    ),
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{SAM}.EnvAndKey",
        "SEC-03",
        "PASSED",
        "pass",
        example="sam.yaml",
        function={
            "FunctionName": "EnvAndKey",
            "Runtime": "python3.9",
            "KMSKeyArn": (
                "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
        },
        environment={"key": "value"},
    ),
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{SAM}.NoEnvAndNoKey",
        "SEC-03",
        "PASSED",
        "not_applicable",
        example="sam.yaml",
        function={"FunctionName": "NoEnvAndNoKey", "Runtime": "python3.9"},
        why=no_variables("SEC-03"),
    ),
    checkov(
        "CKV_AWS_173",
        CFN,
        f"{SAM}.EnvAndNoKey",
        "SEC-03",
        "FAILED",
        "fail",
        example="sam.yaml",
        function={"FunctionName": "EnvAndNoKey", "Runtime": "python3.9"},
        environment={"key": "value"},
    ),
    # SEC-03: CKV_AWS_173, Terraform
    checkov(
        "CKV_AWS_173",
        TF,
        "aws_lambda_function.fail",
        "SEC-03",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "fail", "Runtime": "python3.6"},
        environment={"test": "true"},
        note=(
            "'environment { test = \"true\" }' lacks the 'variables' argument (terraform "
            "validate rejects it); translated as its evident intent, one variable test=true."
        ),
    ),
    checkov(
        "CKV_AWS_173",
        TF,
        "aws_lambda_function.failkmsnovars",
        "SEC-03",
        "FAILED",
        "not_applicable",
        example="main.tf",
        function={
            "FunctionName": "failkmsnovars",
            "Runtime": "python3.6",
            "KMSKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/anyoldguff",
        },
        why=KEY_WITHOUT_VARIABLES,
    ),
    checkov(
        "CKV_AWS_173",
        TF,
        "aws_lambda_function.ignore",
        "SEC-03",
        "UNKNOWN",
        "not_applicable",
        example="main.tf",
        function={"FunctionName": "ignore", "Runtime": "python3.6"},
        note="In neither of the test's sets; the check returns UNKNOWN for it.",
    ),
    checkov(
        "CKV_AWS_173",
        TF,
        "aws_lambda_function.pass",
        "SEC-03",
        "PASSED",
        "pass",
        example="main.tf",
        function={
            "FunctionName": "pass",
            "Runtime": "python3.6",
            "KMSKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/anyoldguff",
        },
        environment={"test": "true"},
        note="As aws_lambda_function.fail: translated as one variable test=true.",
    ),
    checkov(
        "CKV_AWS_173",
        TF,
        "aws_lambda_function.failasempty",
        "SEC-03",
        "FAILED",
        "not_applicable",
        example="main.tf",
        function={"FunctionName": "failasempty", "Runtime": "python3.6"},
        note='kms_key_arn = "" leaves the Lambda-managed key: no KMSKeyArn is returned.',
        why=KEY_WITHOUT_VARIABLES,
    ),
    # REL-02: CKV_AWS_115
    checkov(
        "CKV_AWS_115",
        CFN,
        f"{LAMBDA}.Enabled",
        "REL-02",
        "PASSED",
        "pass",
        example="PASS.yaml",
        function={"FunctionName": "Enabled", "ReservedConcurrentExecutions": 100},
    ),
    checkov(
        "CKV_AWS_115",
        CFN,
        f"{LAMBDA}.Default",
        "REL-02",
        "FAILED",
        "fail",
        example="FAIL.yaml",
        function={"FunctionName": "Default"},
    ),
    checkov(
        "CKV_AWS_115",
        CFN,
        f"{SAM}.Enabled",
        "REL-02",
        "PASSED",
        "pass",
        example="sam.yaml",
        function={"FunctionName": "Enabled", "ReservedConcurrentExecutions": 100},
    ),
    sam_default("CKV_AWS_115", "REL-02", "FAILED", "fail", function={"FunctionName": "Default"}),
    checkov(
        "CKV_AWS_115",
        TF,
        "TestLambdaFunctionLevelConcurrentExecutionLimit.test_failure1",
        "REL-02",
        "FAILED",
        "fail",
        test="test_failure1",
        function={"FunctionName": "lambda_function_name", "Runtime": "nodejs12.x"},
        environment={"foo": "bar"},
    ),
    checkov(
        "CKV_AWS_115",
        TF,
        "TestLambdaFunctionLevelConcurrentExecutionLimit.test_failure2",
        "REL-02",
        "FAILED",
        "fail",
        test="test_failure2",
        function={"FunctionName": "lambda_function_name", "Runtime": "nodejs12.x"},
        environment={"foo": "bar"},
        note="reserved_concurrent_executions = -1 is the provider's 'no reservation'.",
    ),
    checkov(
        "CKV_AWS_115",
        TF,
        "TestLambdaFunctionLevelConcurrentExecutionLimit.test_success1",
        "REL-02",
        "PASSED",
        "pass",
        test="test_success1",
        function={
            "FunctionName": "lambda_function_name",
            "Runtime": "nodejs12.x",
            "ReservedConcurrentExecutions": 0,
        },
        environment={"foo": "bar"},
        note=(
            "Reserved concurrency 0 throttles every invocation (the function is switched "
            "off); spec REL-02 asks only that a reservation be set, so it passes, as Checkov."
        ),
    ),
    checkov(
        "CKV_AWS_115",
        TF,
        "TestLambdaFunctionLevelConcurrentExecutionLimit.test_success2",
        "REL-02",
        "PASSED",
        "pass",
        test="test_success2",
        function={
            "FunctionName": "lambda_function_name",
            "Runtime": "nodejs12.x",
            "ReservedConcurrentExecutions": 1000,
        },
        environment={"foo": "bar"},
    ),
    # REL-01: CKV_AWS_116
    checkov(
        "CKV_AWS_116",
        CFN,
        f"{LAMBDA}.Enabled",
        "REL-01",
        "PASSED",
        "not_applicable",
        example="PASS.yaml",
        function={
            "FunctionName": "Enabled",
            "DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:eu-central-1:{ACCOUNT_ID}:dlq"},
        },
        why=NO_ASYNC_SOURCE,
    ),
    checkov(
        "CKV_AWS_116",
        CFN,
        f"{LAMBDA}.Default",
        "REL-01",
        "FAILED",
        "not_applicable",
        example="FAIL.yaml",
        function={"FunctionName": "Default"},
        why=NO_ASYNC_SOURCE,
    ),
    checkov(
        "CKV_AWS_116",
        CFN,
        f"{SAM}.Enabled",
        "REL-01",
        "PASSED",
        "not_applicable",
        example="sam.yaml",
        function={
            "FunctionName": "Enabled",
            "DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:eu-central-1:{ACCOUNT_ID}:dlq"},
        },
        note="SAM's DeadLetterQueue becomes the function's DeadLetterConfig.",
        why=NO_ASYNC_SOURCE,
    ),
    sam_default(
        "CKV_AWS_116",
        "REL-01",
        "FAILED",
        "not_applicable",
        function={"FunctionName": "Default"},
        why=NO_ASYNC_SOURCE,
    ),
    checkov(
        "CKV_AWS_116",
        TF,
        "TestLambdaDLQConfigured.test_failure",
        "REL-01",
        "FAILED",
        "not_applicable",
        test="test_failure",
        function={"FunctionName": "lambda_function_name", "Runtime": "nodejs12.x"},
        environment={"foo": "bar"},
        why=NO_ASYNC_SOURCE,
    ),
    checkov(
        "CKV_AWS_116",
        TF,
        "TestLambdaDLQConfigured.test_success",
        "REL-01",
        "PASSED",
        "not_applicable",
        test="test_success",
        function={
            "FunctionName": "lambda_function_name",
            "Runtime": "nodejs12.x",
            "DeadLetterConfig": {"TargetArn": "test"},
        },
        environment={"foo": "bar"},
        why=NO_ASYNC_SOURCE,
    ),
    # NET-01: CKV_AWS_117
    checkov(
        "CKV_AWS_117",
        CFN,
        f"{LAMBDA}.Enabled",
        "NET-01",
        "PASSED",
        "pass",
        example="PASS.yaml",
        function={
            "FunctionName": "Enabled",
            "VpcConfig": {
                "VpcId": "vpc-01234567",
                "SubnetIds": ["subnet-01234567", "subnet-34567890"],
                "SecurityGroupIds": ["sg-01234567"],
            },
        },
    ),
    checkov(
        "CKV_AWS_117",
        CFN,
        f"{LAMBDA}.Default",
        "NET-01",
        "FAILED",
        "fail",
        example="FAIL.yaml",
        function={"FunctionName": "Default"},
    ),
    checkov(
        "CKV_AWS_117",
        CFN,
        f"{SAM}.Enabled",
        "NET-01",
        "PASSED",
        "pass",
        example="sam.yaml",
        function={
            "FunctionName": "Enabled",
            "VpcConfig": {
                "VpcId": "vpc-12345",
                "SubnetIds": ["subnet-12345", "subnet-67890"],
                "SecurityGroupIds": ["sg-12345"],
            },
        },
    ),
    sam_default("CKV_AWS_117", "NET-01", "FAILED", "fail", function={"FunctionName": "Default"}),
    checkov(
        "CKV_AWS_117",
        TF,
        "TestLambdaInVPC.test_failure",
        "NET-01",
        "FAILED",
        "fail",
        test="test_failure",
        function={"FunctionName": "lambda_function_name", "Runtime": "nodejs12.x"},
        environment={"foo": "bar"},
    ),
    checkov(
        "CKV_AWS_117",
        TF,
        "TestLambdaInVPC.test_success",
        "NET-01",
        "PASSED",
        "pass",
        test="test_success",
        function={
            "FunctionName": "lambda_function_name",
            "Runtime": "nodejs12.x",
            "VpcConfig": vpc("subnet-1"),
        },
        environment={"foo": "bar"},
    ),
    # SEC-06: CKV_AWS_258
    checkov(
        "CKV_AWS_258",
        CFN,
        "AWS::Lambda::Url.AuthTypeFail",
        "SEC-06",
        "FAILED",
        "fail",
        example="LambdaFunctionURLAuth_Fail.yml",
        function={"FunctionName": "my-function", "FunctionUrl": url("NONE")},
    ),
    checkov(
        "CKV_AWS_258",
        CFN,
        "AWS::Lambda::Url.AuthTypePass",
        "SEC-06",
        "PASSED",
        "pass",
        example="LambdaFunctionURLAuth_Pass.yml",
        function={"FunctionName": "my-function", "FunctionUrl": url("AWS_IAM")},
    ),
    checkov(
        "CKV_AWS_258",
        TF,
        "aws_lambda_function_url.fail",
        "SEC-06",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "test", "FunctionUrl": url("NONE")},
    ),
    checkov(
        "CKV_AWS_258",
        TF,
        "aws_lambda_function_url.pass",
        "SEC-06",
        "PASSED",
        "pass",
        example="main.tf",
        function={
            "FunctionName": "test",
            "Aliases": [alias("test", "my_alias", FunctionUrl=url("AWS_IAM"))],
        },
        note='qualifier = "my_alias": the URL is the alias\'s.',
    ),
    # SEC-05: CKV_AWS_364, CloudFormation
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.FunctionFailPermission",
        "SEC-05",
        "FAILED",
        "fail",
        example="LambdaServicePermission_Fail.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement("apigateway.amazonaws.com", "TestFunction", sid="FunctionFailPermission")
            ),
        },
        note="Spec v1.1: a service principal without aws:SourceArn/aws:SourceAccount fails.",
    ),
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.FunctionPassingArnPermission",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission_Pass.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement(
                    "apigateway.amazonaws.com",
                    "TestFunction",
                    sid="FunctionPassingArnPermission",
                    source_arn="arn:aws:apigateway:us-east-1::/apis/qwerty",
                )
            ),
        },
        note=(
            "The SourceArn names one API (its account part is empty, its resource is not a "
            "wildcard), so it scopes; it is the API's management ARN, not the execute-api ARN "
            "that invocations carry, so in practice the grant matches no request."
        ),
    ),
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.FunctionPassingAccountPermission",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission_Pass.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement(
                    "apigateway.amazonaws.com",
                    "TestFunction",
                    sid="FunctionPassingAccountPermission",
                    source_account=OTHER_ACCOUNT,
                )
            ),
        },
    ),
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.FunctionStringPrincipallPermission",
        "SEC-05",
        "UNKNOWN",
        "pass",
        example="LambdaServicePermission_Pass.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement(OTHER_ACCOUNT, "TestFunction", sid="FunctionStringPrincipallPermission")
            ),
        },
        also={"SEC-08": "fail"},
        why=(
            "CKV_AWS_364 judges service principals only and returns UNKNOWN for an account. "
            "pytest-prr gives every function with a resource policy a verdict: a grant to one "
            "account is not public, so SEC-05 passes, and the grant to account "
            "901234567812, which is not allow-listed, fails SEC-08 (asserted too). The spec is "
            "right: the function is exposed to another account, not to the world."
        ),
    ),
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.ExampleS3ServicePermission",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission_Pass.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement(
                    "s3.amazonaws.com",
                    "TestFunction",
                    sid="ExampleS3ServicePermission",
                    source_account=OTHER_ACCOUNT,
                    source_arn="arn:aws:apigateway:us-east-1::/apis/qwerty",
                )
            ),
        },
    ),
    checkov(
        "CKV_AWS_364",
        CFN,
        "AWS::Lambda::Permission.ExampleEventsServicePermission",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission_Pass.yml",
        function={
            "FunctionName": "TestFunction",
            "Policy": policy(
                statement(
                    "events.amazonaws.com",
                    "TestFunction",
                    sid="ExampleEventsServicePermission",
                    source_account=OTHER_ACCOUNT,
                    source_arn="arn:aws:apigateway:us-east-1::/apis/qwerty",
                )
            ),
        },
    ),
    # SEC-05: CKV_AWS_364, Terraform
    checkov(
        "CKV_AWS_364",
        TF,
        "aws_lambda_permission.ckv_unittest_pass_source_arn",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission.tf",
        function={
            "FunctionName": "MyDemoFunction",
            "Policy": policy(
                statement(
                    "apigateway.amazonaws.com",
                    "MyDemoFunction",
                    sid="AllowMyDemoAPIInvoke",
                    source_arn=f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:a1b2c3d4e5/*/*/*",
                )
            ),
        },
        note="execution_arn resolves to arn:aws:execute-api:REGION:ACCOUNT:API_ID.",
    ),
    checkov(
        "CKV_AWS_364",
        TF,
        "aws_lambda_permission.ckv_unittest_pass_source_account",
        "SEC-05",
        "PASSED",
        "pass",
        example="LambdaServicePermission.tf",
        function={
            "FunctionName": "MyDemoFunction",
            "Policy": policy(
                statement(
                    "apigateway.amazonaws.com",
                    "MyDemoFunction",
                    sid="AllowMyDemoAPIInvoke",
                    source_account="901234678",
                )
            ),
        },
        note=(
            "source_account '901234678' has 9 digits, so no account matches it: the grant is "
            "scoped (to nothing)."
        ),
    ),
    checkov(
        "CKV_AWS_364",
        TF,
        "aws_lambda_permission.ckv_unittest_unknown_principal",
        "SEC-05",
        "UNKNOWN",
        "pass",
        example="LambdaServicePermission.tf",
        function={
            "FunctionName": "MyDemoFunction",
            "Policy": policy(statement("901234678", "MyDemoFunction", sid="AllowMyDemoAPIInvoke")),
        },
        note=(
            "The test lists it as 'ckv_unittest_pass_principal' in unknown_resources, a set "
            "it never asserts; the .tf names it ckv_unittest_unknown_principal. '901234678' is "
            "no 12-digit account ID, so SEC-08 is not asserted."
        ),
        why=(
            "CKV_AWS_364 returns UNKNOWN for a principal that is not a service. pytest-prr "
            "gives every function with a resource policy a SEC-05 verdict, and a grant to an "
            "account principal is not public: PASS. The spec is right; accounts are SEC-08's "
            "concern."
        ),
    ),
    checkov(
        "CKV_AWS_364",
        TF,
        "aws_lambda_permission.ckv_unittest_fail",
        "SEC-05",
        "FAILED",
        "fail",
        example="LambdaServicePermission.tf",
        function={
            "FunctionName": "MyDemoFunction",
            "Policy": policy(
                statement("apigateway.amazonaws.com", "MyDemoFunction", sid="AllowMyDemoAPIInvoke")
            ),
        },
        note="Spec v1.1: a service principal without aws:SourceArn/aws:SourceAccount fails.",
    ),
    # SEC-05: CKV_AWS_301 (Terraform only)
    checkov(
        "CKV_AWS_301",
        TF,
        "aws_lambda_permission.fail",
        "SEC-05",
        "FAILED",
        "pass",
        example="main.tf",
        function={
            "FunctionName": "test_lambda",
            "Aliases": [
                alias(
                    "test_lambda",
                    "test_alias",
                    Policy=policy(
                        statement(
                            "*",
                            "test_lambda",
                            sid="AllowExecutionFromCloudWatch",
                            qualifier="test_alias",
                            source_arn="arn:aws:events:eu-west-1:111122223333:rule/RunDaily",
                        )
                    ),
                )
            ],
        },
        note="qualifier = the alias: the statement is in the alias's policy.",
        why=(
            "Checkov fails any principal '*'. This permission carries the source_arn of one "
            "EventBridge rule, written as ArnLike AWS:SourceArn: AWS sets aws:SourceArn only "
            "on a service's request made for that resource, and a caller cannot supply it, so "
            "only that rule can invoke the alias. Spec v1.1 lists an aws:SourceArn naming a "
            "specific resource as scoping, as do AWS Security Hub Lambda.1 and Prowler "
            "(test_function_public_with_source_account passes the same shape). The spec is "
            "right; granting the service principal events.amazonaws.com would be cleaner."
        ),
    ),
    checkov(
        "CKV_AWS_301",
        TF,
        "aws_lambda_permission.pass",
        "SEC-05",
        "PASSED",
        "pass",
        example="main.tf",
        function={
            "FunctionName": "test_lambda",
            "Aliases": [
                alias(
                    "test_lambda",
                    "test_alias",
                    Policy=policy(
                        statement(
                            "arn:aws:iam::444455556666:role/example",
                            "test_lambda",
                            sid="AllowExecutionFromCloudWatch",
                            qualifier="test_alias",
                            source_arn="arn:aws:events:eu-west-1:111122223333:rule/RunDaily",
                        )
                    ),
                )
            ],
        },
        also={"SEC-08": "fail"},
        note=(
            "Not public, but a grant to a role of account 444455556666, which is not "
            "allow-listed: SEC-08 fails it."
        ),
    ),
    # SEC-04: CKV_AWS_272 (Terraform only)
    checkov(
        "CKV_AWS_272",
        TF,
        "aws_lambda_function.pass",
        "SEC-04",
        "PASSED",
        "fail",
        example="main.tf",
        function={
            "FunctionName": "test-env",
            "Runtime": "python3.9",
            "CodeSigningConfigArn": CSC,
        },
        signing_configs={
            CSC: {
                "CodeSigningConfigArn": CSC,
                "AllowedPublishers": {"SigningProfileVersionArns": []},
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},
            }
        },
        note=(
            'code_signing_config_arn = "123123123" names no policy; the attached config is '
            "translated with the AWS default policy, Warn."
        ),
        why=(
            "Checkov passes any code_signing_config_arn. A code signing config created without "
            "CodeSigningPolicies has UntrustedArtifactOnDeployment Warn (the "
            "CreateCodeSigningConfig default), which deploys unsigned or altered code and only "
            "logs it. Spec SEC-04 requires Enforce; nothing in the input sets it. The spec is "
            "right."
        ),
    ),
    checkov(
        "CKV_AWS_272",
        TF,
        "aws_lambda_function.fail",
        "SEC-04",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "stest-env", "Runtime": "python3.9"},
    ),
    # OBS-01: CKV_AWS_50 (Terraform only)
    checkov(
        "CKV_AWS_50",
        TF,
        "aws_lambda_function.active",
        "OBS-01",
        "PASSED",
        "pass",
        example="main.tf",
        function={
            "FunctionName": "test-env",
            "Runtime": "python3.9",
            "TracingConfig": {"Mode": "Active"},
        },
    ),
    checkov(
        "CKV_AWS_50",
        TF,
        "aws_lambda_function.pass_through",
        "OBS-01",
        "PASSED",
        "fail",
        example="main.tf",
        function={
            "FunctionName": "test-env",
            "Runtime": "python3.9",
            "TracingConfig": {"Mode": "PassThrough"},
        },
        why=(
            "Checkov accepts PassThrough. With PassThrough Lambda samples no request itself "
            "and traces only requests arriving with a sampled X-Amzn-Trace-Id header; it is "
            "also what GetFunctionConfiguration returns for a function with no tracing_config, "
            "so this resource and aws_lambda_function.default, which Checkov FAILs, deploy the "
            "same configuration. Spec OBS-01 requires Active. The spec is right."
        ),
    ),
    checkov(
        "CKV_AWS_50",
        TF,
        "aws_lambda_function.default",
        "OBS-01",
        "FAILED",
        "fail",
        example="main.tf",
        function={
            "FunctionName": "test-env",
            "Runtime": "python3.9",
            "TracingConfig": {"Mode": "PassThrough"},
        },
        note="No tracing_config: Lambda reports TracingConfig.Mode PassThrough.",
    ),
    # SEC-01: CKV_AWS_363, CloudFormation and SAM
    checkov(
        "CKV_AWS_363",
        CFN,
        f"{LAMBDA}.Pass",
        "SEC-01",
        "PASSED",
        "fail",
        example="example.yaml",
        function={"FunctionName": "MyFunction", "Runtime": "nodejs18.x"},
        taken_at=CHECKOV_DATE,
        why=STALE_NODEJS18,
    ),
    checkov(
        "CKV_AWS_363",
        CFN,
        f"{LAMBDA}.Fail",
        "SEC-01",
        "FAILED",
        "fail",
        example="example.yaml",
        function={"FunctionName": "MyFunction", "Runtime": "dotnetcore3.1"},
        taken_at=CHECKOV_DATE,
    ),
    checkov(
        "CKV_AWS_363",
        CFN,
        f"{SAM}.Fail2",
        "SEC-01",
        "FAILED",
        "fail",
        example="exampleSAM.yaml",
        function={"FunctionName": "Fail2", "Runtime": "python3.6"},
        environment={"LOG_LEVEL": "INFO"},
        taken_at=CHECKOV_DATE,
    ),
    checkov(
        "CKV_AWS_363",
        CFN,
        f"{SAM}.Pass2",
        "SEC-01",
        "PASSED",
        "fail",
        example="exampleSAM.yaml",
        function={"FunctionName": "Pass2", "Runtime": "python3.11"},
        environment={"LOG_LEVEL": "INFO"},
        taken_at=CHECKOV_DATE,
        why=(
            "AWS deprecated python3.11 on 2026-06-30 (Lambda runtimes page), seven weeks "
            "before the Checkov code read; CKV_AWS_363's list does not have it. The spec, "
            "which dates each runtime from the AWS table, is right."
        ),
    ),
    # SEC-01: CKV_AWS_363, Terraform
    checkov(
        "CKV_AWS_363",
        TF,
        "aws_lambda_function.pass",
        "SEC-01",
        "PASSED",
        "fail",
        example="main.tf",
        function={"FunctionName": "lambda_function_name", "Runtime": "nodejs18.x"},
        taken_at=CHECKOV_DATE,
        why=STALE_NODEJS18,
    ),
    checkov(
        "CKV_AWS_363",
        TF,
        "aws_lambda_function.fail",
        "SEC-01",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "lambda_function_name", "Runtime": "python3.6"},
        taken_at=CHECKOV_DATE,
    ),
    checkov(
        "CKV_AWS_363",
        TF,
        "aws_lambda_function.fail2",
        "SEC-01",
        "FAILED",
        "fail",
        example="main.tf",
        function={"FunctionName": "lambda_function_name", "Runtime": "dotnetcore3.1"},
        taken_at=CHECKOV_DATE,
    ),
]

CASES: list[PeerCase] = [*PROWLER_CASES, *CHECKOV_CASES]

#: Every case where the peer's verdict and spec v1.1's differ, each with its ``why`` above.
#: A change here is a change of what pytest-prr promises against its peers: review it.
DOCUMENTED_DISAGREEMENTS = frozenset(
    {
        # Prowler
        f"prowler:{NOT_PUBLIC}:test_function_public_with_canonical",
        f"prowler:{SECRETS}:test_function_no_variables",
        f"prowler:{SECRETS}:test_scan_failure_reports_manual_not_pass",
        f"prowler:{SECRETS}:test_function_secrets_in_variables_telegram_token@ed1fec8866",
        f"prowler:{CMK}:test_function_no_env_vars",
        f"prowler:{LAYERS}:test_function_no_layers",
        f"prowler:{RUNTIMES}:test_function_supported_runtime",
        f"prowler:{RUNTIMES}:test_function_no_runtime",
        f"prowler:{DLQ}:test_function_without_dlq",
        f"prowler:{DLQ}:test_function_with_sqs_dlq",
        f"prowler:{MULTI_AZ}:test_function_outside_vpc",
        f"prowler:{MULTI_AZ}:test_resource_filtered",
        f"prowler:{TRAIL}:test_lambda_recorded_by_cloudtrail_classic_event_selector",
        f"prowler:{TRAIL}:test_lambda_recorded_by_cloudtrail_advanced_event_selector",
        f"prowler:{TRAIL}:test_all_lambdas_recorded_by_cloudtrail",
        # Checkov: SEC-02 and SEC-03 without variables
        f"checkov:CKV_AWS_45:cloudformation:{LAMBDA}.NoEnv",
        f"checkov:CKV_AWS_45:cloudformation:{LAMBDA}.EnvNull",
        f"checkov:CKV_AWS_45:cloudformation:{SAM}.NoEnv",
        f"checkov:CKV_AWS_45:cloudformation:{SAM}.NoProperties",
        "checkov:CKV_AWS_45:terraform:aws_lambda_function.no_env",
        f"checkov:CKV_AWS_173:cloudformation:{LAMBDA}.NoEnvAndNoKey",
        f"checkov:CKV_AWS_173:cloudformation:{SAM}.NoEnvAndNoKey",
        "checkov:CKV_AWS_173:terraform:aws_lambda_function.failkmsnovars",
        "checkov:CKV_AWS_173:terraform:aws_lambda_function.failasempty",
        # Checkov: REL-01 without an asynchronous source
        f"checkov:CKV_AWS_116:cloudformation:{LAMBDA}.Enabled",
        f"checkov:CKV_AWS_116:cloudformation:{LAMBDA}.Default",
        f"checkov:CKV_AWS_116:cloudformation:{SAM}.Enabled",
        f"checkov:CKV_AWS_116:cloudformation:{SAM}.Default",
        "checkov:CKV_AWS_116:terraform:TestLambdaDLQConfigured.test_failure",
        "checkov:CKV_AWS_116:terraform:TestLambdaDLQConfigured.test_success",
        # Checkov: SEC-05, SEC-04, OBS-01, SEC-01
        "checkov:CKV_AWS_364:cloudformation:AWS::Lambda::Permission."
        "FunctionStringPrincipallPermission",
        "checkov:CKV_AWS_364:terraform:aws_lambda_permission.ckv_unittest_unknown_principal",
        "checkov:CKV_AWS_301:terraform:aws_lambda_permission.fail",
        "checkov:CKV_AWS_272:terraform:aws_lambda_function.pass",
        "checkov:CKV_AWS_50:terraform:aws_lambda_function.pass_through",
        f"checkov:CKV_AWS_363:cloudformation:{LAMBDA}.Pass",
        f"checkov:CKV_AWS_363:cloudformation:{SAM}.Pass2",
        "checkov:CKV_AWS_363:terraform:aws_lambda_function.pass",
    }
)
