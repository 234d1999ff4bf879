"""Production-readiness tests of the deployed orders service.

They read the target account through pytest-prr (``pytest --prr-account=NAME``) and check
every Lambda function tagged ``Service=orders`` in the account's primary region. Without
``--prr-account`` the prr fixtures skip these tests, so a plain ``pytest`` runs unit tests only.

Each test checks all functions and fails once, listing every offending function, so one
run shows the whole gap instead of stopping at the first function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_prr as prr

SERVICE = "orders"
REQUIRED_TAGS = ("Owner", "CostCenter", "DataClassification", "Environment")
MIN_LOG_RETENTION_DAYS = 365
API_GATEWAY_MAX_TIMEOUT_S = 29
MAX_MEMORY_MB = 3008
MAX_TIMEOUT_S = 300


@dataclass(frozen=True)
class Function:
    """What the tests need to know about one function of the service."""

    name: str
    arn: str
    config: dict[str, Any]
    tags: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        """Environment variables (empty when the function has none)."""
        return self.config.get("Environment", {}).get("Variables", {})


@dataclass(frozen=True)
class SqsSource:
    """An SQS event source mapping of a service function, with the queue's attributes."""

    function: Function
    mapping: dict[str, Any]
    queue_attributes: dict[str, str]


def _report(problems: list[str]) -> str:
    return "\n".join(problems)


@pytest.fixture
def functions(prr_client: Any) -> list[Function]:
    """Find the service's functions by their ``Service`` tag."""
    lam = prr_client("lambda")
    found = []
    for page in lam.get_paginator("list_functions").paginate():
        for config in page["Functions"]:
            tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
            if tags.get("Service") == SERVICE:
                found.append(Function(config["FunctionName"], config["FunctionArn"], config, tags))
    if not found:
        # Every check below would pass vacuously on an empty list.
        pytest.fail(f"no Lambda function tagged Service={SERVICE} in the target region")
    return sorted(found, key=lambda fn: fn.name)


@pytest.fixture
def lambda_alarms(prr_client: Any) -> list[dict[str, Any]]:
    """List all metric alarms on the AWS/Lambda namespace."""
    paginator = prr_client("cloudwatch").get_paginator("describe_alarms")
    return [
        alarm
        for page in paginator.paginate(AlarmTypes=["MetricAlarm"])
        for alarm in page["MetricAlarms"]
        if alarm.get("Namespace") == "AWS/Lambda"
    ]


@pytest.fixture
def sqs_sources(prr_client: Any, functions: list[Function]) -> list[SqsSource]:
    """Collect the SQS event source mappings of the service's functions (or their aliases).

    All mappings are listed and matched on the function ARN, because a mapping on the
    ``live`` alias is not returned when filtering by the unqualified function name.
    """
    lam = prr_client("lambda")
    mappings = [
        mapping
        for page in lam.get_paginator("list_event_source_mappings").paginate()
        for mapping in page["EventSourceMappings"]
    ]
    sources = []
    for fn in functions:
        for mapping in mappings:
            target = mapping.get("FunctionArn", "")
            source = mapping.get("EventSourceArn", "")
            if (target == fn.arn or target.startswith(fn.arn + ":")) and ":sqs:" in source:
                sources.append(SqsSource(fn, mapping, _queue_attributes(prr_client, source)))
    if not sources:
        prr.not_applicable("no function of the service has an SQS event source")
    return sources


def _queue_attributes(prr_client: Any, queue_arn: str) -> dict[str, str]:
    _, _, _, region, account, name = queue_arn.split(":")
    sqs = prr_client("sqs", region=region)
    url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _alarms_for(alarms: list[dict[str, Any]], fn: Function, metric: str) -> list[dict[str, Any]]:
    """Select alarms on ``metric`` of the function (alias alarms carry its FunctionName)."""
    return [
        alarm
        for alarm in alarms
        if alarm.get("MetricName") == metric
        and {"Name": "FunctionName", "Value": fn.name} in alarm.get("Dimensions", [])
    ]


# --- Observability -------------------------------------------------------------------


@prr.control("OBS-01")
def test_tracing_is_active(functions: list[Function]) -> None:
    """Without active tracing a slow DynamoDB call cannot be told from a slow handler."""
    problems = [
        f"{fn.name}: TracingConfig.Mode is {fn.config.get('TracingConfig', {}).get('Mode')!r}"
        for fn in functions
        if fn.config.get("TracingConfig", {}).get("Mode") != "Active"
    ]
    assert not problems, _report(problems)


@prr.control("OBS-02")
def test_log_groups_keep_logs_for_a_year(prr_client: Any, functions: list[Function]) -> None:
    """Incident reviews and audits look back up to a year; never-expiring logs cost money."""
    logs = prr_client("logs")
    problems = []
    for fn in functions:
        name = f"/aws/lambda/{fn.name}"
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            problems.append(f"{fn.name}: log group {name} does not exist")
        elif "retentionInDays" not in group:
            problems.append(f"{fn.name}: log group {name} never expires (no retention set)")
        elif group["retentionInDays"] < MIN_LOG_RETENTION_DAYS:
            problems.append(
                f"{fn.name}: {name} keeps logs {group['retentionInDays']} days, "
                f"needs >= {MIN_LOG_RETENTION_DAYS}"
            )
    assert not problems, _report(problems)


@prr.control("OBS-03")
def test_every_function_has_an_errors_alarm(
    functions: list[Function], lambda_alarms: list[dict[str, Any]]
) -> None:
    """Failed orders must be noticed by an alarm, not by customers."""
    missing = [fn.name for fn in functions if not _alarms_for(lambda_alarms, fn, "Errors")]
    assert not missing, f"no AWS/Lambda Errors alarm for: {', '.join(missing)}"


@prr.control("OBS-04")
def test_every_function_has_a_throttles_alarm(
    functions: list[Function], lambda_alarms: list[dict[str, Any]]
) -> None:
    """Reserved concurrency caps the functions, so hitting the cap must raise an alarm."""
    missing = [fn.name for fn in functions if not _alarms_for(lambda_alarms, fn, "Throttles")]
    assert not missing, f"no AWS/Lambda Throttles alarm for: {', '.join(missing)}"


@prr.control("OBS-05")
def test_alarms_notify_someone(
    functions: list[Function], lambda_alarms: list[dict[str, Any]]
) -> None:
    """An alarm without an enabled action changes state and nobody hears about it."""
    problems = []
    for fn in functions:
        alarms = _alarms_for(lambda_alarms, fn, "Errors") + _alarms_for(
            lambda_alarms, fn, "Throttles"
        )
        if not alarms:
            problems.append(f"{fn.name}: no Errors/Throttles alarm to check (see OBS-03/04)")
        for alarm in alarms:
            if not alarm.get("ActionsEnabled") or not alarm.get("AlarmActions"):
                problems.append(f"{fn.name}: alarm {alarm['AlarmName']} has no enabled action")
    assert not problems, _report(problems)


@prr.control("OBS-06")
def test_functions_use_powertools(functions: list[Function]) -> None:
    """Powertools gives structured logs, traces and metrics keyed by the service name."""
    missing = [fn.name for fn in functions if not fn.env.get("POWERTOOLS_SERVICE_NAME")]
    assert not missing, f"POWERTOOLS_SERVICE_NAME not set on: {', '.join(missing)}"


# --- Reliability ---------------------------------------------------------------------


@prr.control("REL-02")
def test_reserved_concurrency_is_set(prr_client: Any, functions: list[Function]) -> None:
    """A traffic spike on orders must neither starve other functions nor flood DynamoDB."""
    lam = prr_client("lambda")
    problems = []
    for fn in functions:
        reserved = lam.get_function_concurrency(FunctionName=fn.name).get(
            "ReservedConcurrentExecutions"
        )
        if reserved is None:
            problems.append(f"{fn.name}: no reserved concurrency")
        elif reserved == 0:
            problems.append(f"{fn.name}: reserved concurrency is 0, the function cannot run")
    assert not problems, _report(problems)


@prr.control("REL-03")
def test_live_alias_points_to_a_published_version(
    prr_client: Any, functions: list[Function]
) -> None:
    """Callers invoke ``live``; an immutable version behind it makes rollback one API call."""
    lam = prr_client("lambda")
    problems = []
    for fn in functions:
        aliases = {a["Name"]: a for a in lam.list_aliases(FunctionName=fn.name)["Aliases"]}
        versions = {
            v["Version"]
            for page in lam.get_paginator("list_versions_by_function").paginate(
                FunctionName=fn.name
            )
            for v in page["Versions"]
        }
        live = aliases.get("live")
        if live is None:
            problems.append(f"{fn.name}: no alias 'live' (aliases: {sorted(aliases)})")
        elif live["FunctionVersion"] == "$LATEST" or live["FunctionVersion"] not in versions:
            problems.append(
                f"{fn.name}: alias 'live' points at {live['FunctionVersion']!r}, "
                "not a published version"
            )
    assert not problems, _report(problems)


@prr.control("REL-04")
def test_queue_visibility_covers_six_function_timeouts(sqs_sources: list[SqsSource]) -> None:
    """A shorter visibility timeout redelivers messages still being processed (duplicates)."""
    problems = []
    for src in sqs_sources:
        visibility = int(src.queue_attributes["VisibilityTimeout"])
        needed = 6 * src.function.config["Timeout"]
        if visibility < needed:
            problems.append(
                f"{src.function.name}: {src.mapping['EventSourceArn']} visibility "
                f"timeout {visibility}s < 6 x function timeout = {needed}s"
            )
    assert not problems, _report(problems)


@prr.control("REL-05")
def test_event_source_queues_have_a_dlq(prr_client: Any, sqs_sources: list[SqsSource]) -> None:
    """Poisoned order events must be parked in a DLQ, not retried until they expire."""
    problems = []
    for src in sqs_sources:
        queue = src.mapping["EventSourceArn"]
        redrive = src.queue_attributes.get("RedrivePolicy")
        if not redrive:
            problems.append(f"{src.function.name}: {queue} has no RedrivePolicy")
            continue
        dlq = json.loads(redrive)["deadLetterTargetArn"]
        try:
            _queue_attributes(prr_client, dlq)
        except prr_client("sqs").exceptions.QueueDoesNotExist:
            problems.append(f"{src.function.name}: DLQ {dlq} of {queue} does not exist")
    assert not problems, _report(problems)


@prr.control("REL-07")
def test_sqs_batches_report_partial_failures(sqs_sources: list[SqsSource]) -> None:
    """Without it the consumer's batchItemFailures is ignored and whole batches retry."""
    problems = [
        f"{src.function.name}: mapping {src.mapping['UUID']} lacks ReportBatchItemFailures"
        for src in sqs_sources
        if "ReportBatchItemFailures" not in src.mapping.get("FunctionResponseTypes", [])
    ]
    assert not problems, _report(problems)


@prr.control("REL-08")
def test_api_function_timeout_fits_api_gateway(functions: list[Function]) -> None:
    """API Gateway gives up after 29 s; a longer timeout only hides work nobody waits for."""
    # The team tags the function behind API Gateway Component=api (see template.yaml).
    api_functions = [fn for fn in functions if fn.tags.get("Component") == "api"]
    if not api_functions:
        prr.not_applicable("no orders function is tagged Component=api")
    problems = [
        f"{fn.name}: Timeout {fn.config['Timeout']}s > {API_GATEWAY_MAX_TIMEOUT_S}s "
        "API Gateway integration limit"
        for fn in api_functions
        if fn.config["Timeout"] > API_GATEWAY_MAX_TIMEOUT_S
    ]
    assert not problems, _report(problems)


# --- Data protection -----------------------------------------------------------------


@prr.control("DAT-02")
def test_event_source_queues_and_their_dlqs_are_encrypted(
    prr_client: Any, sqs_sources: list[SqsSource]
) -> None:
    """Order events (and the copies parked in the DLQ) hold customer data at rest."""
    problems = []
    for src in sqs_sources:
        queues = {src.mapping["EventSourceArn"]: src.queue_attributes}
        if "RedrivePolicy" in src.queue_attributes:
            dlq = json.loads(src.queue_attributes["RedrivePolicy"])["deadLetterTargetArn"]
            try:
                queues[dlq] = _queue_attributes(prr_client, dlq)
            except prr_client("sqs").exceptions.QueueDoesNotExist:
                pass  # a dangling DLQ is REL-05's failure, not an encryption one
        for arn, attributes in queues.items():
            encrypted = attributes.get("KmsMasterKeyId") or (
                attributes.get("SqsManagedSseEnabled") == "true"
            )
            if not encrypted:
                problems.append(f"{src.function.name}: queue {arn} is not encrypted")
    assert not problems, _report(problems)


# --- Identity and access -------------------------------------------------------------


@prr.control("IAM-01")
def test_each_function_has_its_own_role(prr_client: Any, functions: list[Function]) -> None:
    """A shared role gives each function the union of all their permissions."""
    lam = prr_client("lambda")
    users: dict[str, list[str]] = {}
    for page in lam.get_paginator("list_functions").paginate():
        for config in page["Functions"]:
            users.setdefault(config["Role"], []).append(config["FunctionName"])
    problems = [
        f"{fn.name}: role {fn.config['Role']} is shared with "
        f"{sorted(set(users[fn.config['Role']]) - {fn.name})}"
        for fn in functions
        if len(users[fn.config["Role"]]) > 1
    ]
    assert not problems, _report(problems)


@prr.control("IAM-05")
def test_roles_trust_only_lambda(prr_client: Any, functions: list[Function]) -> None:
    """Any other principal could assume the role and act with the function's permissions."""
    iam = prr_client("iam")
    problems = []
    for fn in functions:
        role = iam.get_role(RoleName=_role_name(fn))["Role"]
        for statement in _statements(role["AssumeRolePolicyDocument"]):
            if statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal", {})
            services = principal.get("Service") if isinstance(principal, dict) else None
            services = [services] if isinstance(services, str) else services
            if set(principal) != {"Service"} or services != ["lambda.amazonaws.com"]:
                problems.append(f"{fn.name}: role {_role_name(fn)} trusts {principal}")
    assert not problems, _report(problems)


@prr.control("IAM-02")
def test_role_policies_have_no_wildcard_actions(prr_client: Any, functions: list[Function]) -> None:
    """``service:*`` grants every future action of the service too, not just today's."""
    iam = prr_client("iam")
    problems = []
    for fn in functions:
        for policy, document in _role_policies(iam, _role_name(fn)):
            for statement in _statements(document):
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                wild = [a for a in actions if a == "*" or a.endswith(":*")]
                if statement.get("Effect") == "Allow" and wild:
                    problems.append(f"{fn.name}: policy {policy} allows {wild}")
    assert not problems, _report(problems)


def _role_name(fn: Function) -> str:
    return fn.config["Role"].rsplit("/", 1)[-1]


def _role_policies(iam: Any, role: str) -> list[tuple[str, Any]]:
    """Return (name, document) of every inline and attached policy of the role."""
    policies = [
        (name, iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        arn = attached["PolicyArn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)
        policies.append((arn, document["PolicyVersion"]["Document"]))
    return policies


def _statements(document: dict[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


# --- Deployment and ownership --------------------------------------------------------


@prr.control("DEP-05")
def test_required_tags_are_present(functions: list[Function]) -> None:
    """Tags tell on-call who owns the function, who pays, and how sensitive its data is."""
    problems = [
        f"{fn.name}: missing or empty tags {missing}"
        for fn in functions
        if (missing := [t for t in REQUIRED_TAGS if not fn.tags.get(t, "").strip()])
    ]
    assert not problems, _report(problems)


@prr.control("DEP-06")
def test_runbook_is_linked(functions: list[Function]) -> None:
    """On-call opens the runbook from the alarm's function in one click."""
    problems = [
        f"{fn.name}: tag prr:runbook is {fn.tags.get('prr:runbook')!r}, not an https:// URL"
        for fn in functions
        if not fn.tags.get("prr:runbook", "").startswith("https://")
    ]
    assert not problems, _report(problems)


# --- Cost ----------------------------------------------------------------------------


@prr.control("FIN-01")
def test_functions_run_on_graviton(functions: list[Function]) -> None:
    """arm64 is cheaper per GB-second for the same Python code."""
    problems = [
        f"{fn.name}: Architectures is {fn.config.get('Architectures')}"
        for fn in functions
        if fn.config.get("Architectures") != ["arm64"]
    ]
    assert not problems, _report(problems)


@prr.control("FIN-02")
def test_functions_are_right_sized(functions: list[Function]) -> None:
    """Oversized memory or timeouts multiply the cost of every invocation and of runaways."""
    problems = [
        f"{fn.name}: MemorySize {fn.config['MemorySize']} MB, Timeout {fn.config['Timeout']}s "
        f"(limits {MAX_MEMORY_MB} MB, {MAX_TIMEOUT_S}s)"
        for fn in functions
        if fn.config["MemorySize"] > MAX_MEMORY_MB or fn.config["Timeout"] > MAX_TIMEOUT_S
    ]
    assert not problems, _report(problems)


# --- Orders team controls (prr-catalog.yaml) -----------------------------------------


@prr.control("ORD-01")
def test_metrics_go_to_the_orders_namespace(functions: list[Function]) -> None:
    """The orders dashboards and SLO alarms only read the Orders namespace."""
    problems = [
        f"{fn.name}: POWERTOOLS_METRICS_NAMESPACE is "
        f"{fn.env.get('POWERTOOLS_METRICS_NAMESPACE')!r}, expected 'Orders'"
        for fn in functions
        if fn.env.get("POWERTOOLS_METRICS_NAMESPACE") != "Orders"
    ]
    assert not problems, _report(problems)


@prr.control("ORD-02")
def test_orders_table_has_point_in_time_recovery(
    prr_client: Any, functions: list[Function]
) -> None:
    """Orders are the system of record: a bad deploy's writes must be undoable."""
    tables = {fn.env["ORDERS_TABLE"] for fn in functions if fn.env.get("ORDERS_TABLE")}
    assert tables, "no orders function sets ORDERS_TABLE"
    ddb = prr_client("dynamodb")
    problems = []
    for table in sorted(tables):
        try:
            backups = ddb.describe_continuous_backups(TableName=table)
        except ddb.exceptions.TableNotFoundException:
            problems.append(f"table {table} does not exist")
            continue
        pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            problems.append(
                f"table {table}: point-in-time recovery is "
                f"{pitr.get('PointInTimeRecoveryStatus')!r}"
            )
    assert not problems, _report(problems)
