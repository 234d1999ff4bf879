"""The snapshot in real pytest runs: taken once, handed to xdist workers, saved, replayed."""

from __future__ import annotations

import json

import pytest

from conftest import Project
from test_plugin import SEED_ONE_FUNCTION

SNAPSHOT_TESTS = """
import pytest_prr as prr

@prr.control("OBS-01")
def test_tracing_from_the_snapshot(prr_snapshot):
    functions = [f for _, f in prr_snapshot.functions()]
    assert [f["FunctionName"] for f in functions] == ["orders"]
    assert functions[0]["TracingConfig"]["Mode"] == "Active"

@prr.control("DEP-05")
def test_tags_from_the_snapshot(prr_snapshot):
    (_, function), = prr_snapshot.functions()
    assert "CostCenter" in function["Tags"], "orders: tag CostCenter is missing"
"""

NO_SNAPSHOT_IN_WORKERS = """
import pytest_prr.snapshot.take as take

def pytest_configure(config):
    if hasattr(config, "workerinput"):
        def refuse(*args, **kwargs):
            raise AssertionError("a worker tried to take a snapshot")
        take.take_snapshot = refuse
"""


@pytest.fixture
def snapshot_project(project: Project) -> Project:
    project.conftest(SEED_ONE_FUNCTION + NO_SNAPSHOT_IN_WORKERS)
    project.tests(SNAPSHOT_TESTS)
    return project


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_snapshot_is_taken_once_saved_and_shared(
    snapshot_project: Project, workers: list[str]
) -> None:
    result, document = snapshot_project.run_json(
        "--prr-account=moto", "--prr-snapshot-out=out/snapshot.json", *workers
    )
    result.assert_outcomes(passed=1, failed=1)
    saved = snapshot_project.path / "out" / "snapshot.json"
    digest = (snapshot_project.path / "out" / "snapshot.json.sha256").read_text().split()[0]
    target = document["targets"][0]
    assert target["snapshot_sha256"] == digest
    assert target["snapshot_taken_at"] == json.loads(saved.read_text())["taken_at"]
    result.stdout.fnmatch_lines(
        [
            "prr: snapshot of moto: 1 function(s) in 1 region(s), * API calls, * s, "
            "on moto * (embedded); *saved to *"
        ]
    )
    assert result.stdout.str().count("prr: snapshot of moto") == 1


def test_stored_snapshot_replays_without_aws_to_the_same_verdicts(
    snapshot_project: Project,
) -> None:
    _, live = snapshot_project.run_json(
        "--prr-account=moto", "--prr-snapshot-out=snapshot.json", name="live.json", builtin=True
    )
    (snapshot_project.path / "conftest.py").unlink()
    snapshot_project.tests(
        SNAPSHOT_TESTS
        + """
def test_no_aws_in_snapshot_mode(prr_session):
    raise AssertionError("prr_session must skip")
""",
    )
    result, replay = snapshot_project.run_json("--prr-snapshot=snapshot.json", "-rs", builtin=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert any("prr::" + c["id"] in c["tests"] for c in replay["controls"])
    result.stdout.fnmatch_lines(["*evaluating a stored snapshot (--prr-snapshot); no AWS access*"])
    assert replay["targets"][0]["mode"] == "snapshot"
    assert replay["targets"][0]["snapshot_mode"] == "moto"
    assert replay["targets"][0]["snapshot_sha256"] == live["targets"][0]["snapshot_sha256"]
    assert replay["controls"] == live["controls"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "not valid JSON"), ('{"schema": "prr-snapshot/0"}', "snapshot format")],
)
def test_corrupt_stored_snapshot_is_a_usage_error(
    project: Project, content: str, message: str
) -> None:
    (project.path / "bad.json").write_text(content)
    project.tests("def test_plain(): pass")
    result = project.run("--prr-snapshot=bad.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*bad.json: *{message}*"])


@pytest.fixture
def stored_snapshot(project: Project) -> Project:
    """A project with a snapshot saved (with its .sha256) whose only function traces, so
    that OBS-01 passes on it; and a test that reads the snapshot."""
    from pytest_prr.snapshot.store import save_snapshot
    from snapshots import build_snapshot, make_function

    function = make_function("orders", TracingConfig={"Mode": "Active"})
    save_snapshot(build_snapshot([function]), project.path / "snapshot.json")
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("OBS-01")
        def test_tracing(prr_snapshot):
            (_, function), = prr_snapshot.functions()
            assert function["TracingConfig"]["Mode"] == "Active"
        """
    )
    return project


def test_a_replay_whose_digest_is_missing_is_refused(stored_snapshot: Project) -> None:
    (stored_snapshot.path / "snapshot.json.sha256").unlink()
    result = stored_snapshot.run("--prr-snapshot=snapshot.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*snapshot.json: snapshot.json.sha256 is missing, so the snapshot cannot be shown "
            "unaltered since it was saved; pass --prr-snapshot-unverified to evaluate it anyway*"
        ]
    )


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_unverified_replay_runs_says_so_and_records_it(
    stored_snapshot: Project, workers: list[str]
) -> None:
    (stored_snapshot.path / "snapshot.json.sha256").unlink()
    result, document = stored_snapshot.run_json(
        "--prr-snapshot=snapshot.json", "--prr-snapshot-unverified", *workers
    )
    result.assert_outcomes(passed=1)
    (target,) = document["targets"]
    assert target["snapshot_verified"] is False
    result.stdout.fnmatch_lines(
        [
            "prr: WARNING: *snapshot.json has no SHA-256 beside it, so nothing shows it "
            "unaltered; evaluated anyway (--prr-snapshot-unverified), *snapshot_verified: false"
        ]
    )
    assert result.stdout.str().count("has no SHA-256 beside it") == 1


@pytest.mark.parametrize("flag", [[], ["--prr-snapshot-unverified"]], ids=["plain", "flag"])
def test_a_replay_with_its_digest_is_verified(stored_snapshot: Project, flag: list[str]) -> None:
    result, document = stored_snapshot.run_json("--prr-snapshot=snapshot.json", *flag)
    result.assert_outcomes(passed=1)
    assert document["targets"][0]["snapshot_verified"] is True
    result.stdout.no_fnmatch_line("*has no SHA-256 beside it*")


def test_an_edited_snapshot_with_its_digest_is_still_refused_with_the_flag(
    stored_snapshot: Project,
) -> None:
    path = stored_snapshot.path / "snapshot.json"
    path.write_text(path.read_text().replace('"Active"', '"PassThrough"'))
    result = stored_snapshot.run("--prr-snapshot=snapshot.json", "--prr-snapshot-unverified")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the snapshot was altered after it was saved*"])


def test_the_unverified_flag_without_a_replay_is_a_usage_error(project: Project) -> None:
    project.tests("def test_plain(): pass")
    result = project.run("--prr-account=moto", "--prr-snapshot-unverified")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-snapshot-unverified applies to --prr-snapshot=PATH*"])


def test_snapshot_and_account_together_is_a_usage_error(project: Project) -> None:
    project.tests("def test_plain(): pass")
    result = project.run("--prr-snapshot=s.json", "--prr-account=moto")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-snapshot evaluates a stored snapshot without AWS*"])


def test_user_writes_are_refused_in_endpoint_mode(project: Project, moto_endpoint: str) -> None:
    import boto3

    from moto_seed import TRUST, lambda_zip

    seed = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    role = seed.client("iam", endpoint_url=moto_endpoint).create_role(
        RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]
    lam = seed.client("lambda", endpoint_url=moto_endpoint)
    lam.create_function(
        FunctionName="keep-me",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": lambda_zip()},
    )
    project.endpoint_account(moto_endpoint)
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("REL-02")
        def test_a_write(prr_client):
            prr_client("lambda").put_function_concurrency(
                FunctionName="keep-me", ReservedConcurrentExecutions=1)

        @prr.control("SEC-04")
        def test_a_delete(prr_client):
            prr_client("lambda").delete_function(FunctionName="keep-me")
        """
    )
    result, document = project.run_json("--prr-account=local")
    result.assert_outcomes(failed=2)
    for control_id, operation in (
        ("REL-02", "PutFunctionConcurrency"),
        ("SEC-04", "DeleteFunction"),
    ):
        control = next(c for c in document["controls"] if c["id"] == control_id)
        assert control["status"] == "error"
        assert f"lambda:{operation}" in control["resources"][0]["message"]
    kept = lam.get_function(FunctionName="keep-me")
    assert kept.get("Concurrency", {}).get("ReservedConcurrentExecutions") is None


def seed_wired_function(endpoint: str) -> dict[str, str]:
    """A function with one resource of every wired kind, on a moto server, through boto3."""
    import boto3

    from moto_seed import TRUST, lambda_zip
    from test_snapshot import FAKE_KEY

    session = boto3.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )

    def client(service: str):
        return session.client(service, endpoint_url=endpoint)

    role = client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    secret = client("secretsmanager").create_secret(Name="db", SecretString="s3cr3t-value")
    function = client("lambda").create_function(
        FunctionName="wired",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": lambda_zip()},
        Environment={"Variables": {"DB_SECRET": secret["ARN"], "LEAKED": FAKE_KEY}},
    )["FunctionArn"]
    queue = client("sqs").create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    client("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="wired")
    topic = client("sns").create_topic(Name="events")["TopicArn"]
    client("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    client("events").put_rule(Name="nightly", ScheduleExpression="rate(1 day)")
    client("events").put_targets(Rule="nightly", Targets=[{"Id": "1", "Arn": function}])
    client("lambda").add_permission(
        FunctionName="wired",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    client("s3").create_bucket(Bucket="uploads")
    client("s3").put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    client("logs").create_log_group(logGroupName="/aws/lambda/wired")
    client("logs").put_retention_policy(logGroupName="/aws/lambda/wired", retentionInDays=400)
    client("cloudwatch").put_metric_alarm(
        AlarmName="wired-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "wired"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic],
    )
    return {"function": function, "queue": queue_arn, "topic": topic, "secret": secret["ARN"]}


def test_endpoint_snapshot_holds_every_wired_resource(project: Project, moto_endpoint: str) -> None:
    from test_snapshot import FAKE_KEY

    wired = seed_wired_function(moto_endpoint)
    project.endpoint_account(moto_endpoint)
    project.tests("def test_plain(): pass")
    project.run("--prr-account=local", "--prr-snapshot-out=s.json").assert_outcomes(passed=1)
    text = (project.path / "s.json").read_text()
    assert FAKE_KEY not in text and "s3cr3t-value" not in text
    region = json.loads(text)["regions"]["us-east-1"]
    function = region["lambda"]["functions"][wired["function"]]
    assert function["Environment"]["DB_SECRET"] == {"value": wired["secret"]}
    assert function["Environment"]["LEAKED"]["finding"] == "aws-access-key-id"
    assert [m["EventSourceArn"] for m in function["event_source_mappings"]] == [wired["queue"]]
    assert wired["queue"] in region["sqs"]["queues"]
    assert [s["TopicArn"] for s in region["sns"]["subscriptions"]] == [wired["topic"]]
    assert [t["FunctionArn"] for t in region["events"]["targets"]] == [wired["function"]]
    assert [n["Bucket"] for n in region["s3"]["notifications"]] == ["uploads"]
    assert region["logs"]["log_groups"]["/aws/lambda/wired"]["retentionInDays"] == 400
    assert [a["AlarmName"] for a in region["cloudwatch"]["alarms"]] == ["wired-errors"]
    assert region["secrets"]["secrets"][wired["secret"]]["exists"] is True
