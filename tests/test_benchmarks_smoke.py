"""A smoke-sized run of the benchmark harness (``benchmarks/``), so that it cannot rot.

Five functions, 1 ms of latency: the simulator must answer like AWS (throttles botocore
recognises, pages, counters that agree with the snapshot's own), and every measurement the
harness makes must still run and find what it expects.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from pytest_prr.accounts.motoserver import MotoServer

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
FUNCTIONS = 5


@pytest.fixture(scope="module")
def harness() -> Iterator[SimpleNamespace]:
    """The harness's modules, importable as ``benchmarks/bench.py`` imports them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield SimpleNamespace(
            **{
                name: importlib.import_module(name)
                for name in ("bench", "seeder", "report", "merge_bench")
            }
        )


@pytest.fixture(scope="module")
def account(harness, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A moto server seeded with five functions, behind three simulators: AWS's limits,
    stricter ones, and none; each serves the account's code signing configs."""
    server = MotoServer()
    upstream = server.start()
    simulators: dict[str, object] = {}
    try:
        plan, configs = harness.seeder.seed(upstream, FUNCTIONS, seed=7)
        signing = tmp_path_factory.mktemp("bench") / "code-signing.json"
        signing.write_text(json.dumps(configs))
        for name, limits in (("limited", []), ("strict", ["lambda:*=0.2", "iam:*=0.2"])):
            simulators[name] = harness.bench.SimulatorProcess(upstream, 1, limits, signing)
        simulators["unlimited"] = harness.bench.SimulatorProcess(upstream, 1, None, signing)
        yield SimpleNamespace(plan=plan, configs=configs, **simulators)
    finally:
        for simulator in simulators.values():
            simulator.stop()
        server.stop()


def client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def test_the_seed_alone_decides_the_account(harness) -> None:
    assert harness.seeder.plan(50, seed=3) == harness.seeder.plan(50, seed=3)
    assert harness.seeder.plan(50, seed=3) != harness.seeder.plan(50, seed=4)


def test_the_simulator_throttles_as_aws_does(account) -> None:
    account.strict.reset()
    lam, iam = client("lambda", account.strict.url), client("iam", account.strict.url)
    codes = set()
    for _ in range(8):
        for call in (lambda: lam.list_aliases(FunctionName="fn-00000"), iam.list_roles):
            try:
                call()
            except ClientError as error:
                codes.add(
                    (
                        error.response["ResponseMetadata"]["HTTPStatusCode"],
                        error.response["Error"]["Code"],
                    )
                )
    assert codes == {(429, "TooManyRequestsException"), (400, "Throttling")}
    stats = account.strict.stats()
    assert stats["requests"] == {"lambda:ListAliases": 8, "iam:ListRoles": 8}
    # A bucket holds one second's worth, at least one request: the first passes.
    assert 4 <= stats["throttled"]["lambda:ListAliases"] <= 7
    assert 4 <= stats["throttled"]["iam:ListRoles"] <= 7


def test_the_simulator_pages_listings_as_aws_does(account) -> None:
    account.unlimited.reset()
    pages = client("lambda", account.unlimited.url).get_paginator("list_functions")
    listed = list(pages.paginate(FunctionVersion="ALL", PaginationConfig={"PageSize": 2}))
    names = [f["FunctionName"] for page in listed for f in page["Functions"]]
    versions = sum(plan.versions for plan in account.plan.functions)
    assert len(listed) == -(-(FUNCTIONS + versions) // 2)
    assert sorted(set(names)) == [f"fn-{i:05d}" for i in range(FUNCTIONS)]
    assert account.unlimited.stats()["requests"] == {"lambda:ListFunctions": len(listed)}


def test_the_simulator_lists_function_urls_as_aws_does(account) -> None:
    """moto lacks ListFunctionUrlConfigs; the simulator answers it from moto's one URL per
    function, as one request of the client's."""
    lam = client("lambda", account.unlimited.url)
    lam.create_function_url_config(FunctionName="fn-00001", AuthType="AWS_IAM")
    account.unlimited.reset()
    try:
        [config] = lam.list_function_url_configs(FunctionName="fn-00001")["FunctionUrlConfigs"]
        assert lam.list_function_url_configs(FunctionName="fn-00002")["FunctionUrlConfigs"] == []
        with pytest.raises(ClientError) as missing:
            lam.list_function_url_configs(FunctionName="fn-99999")
        stats = account.unlimited.stats()
    finally:
        lam.delete_function_url_config(FunctionName="fn-00001")
    assert config["AuthType"] == "AWS_IAM"
    assert config["FunctionArn"].endswith(":function:fn-00001")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert stats["requests"] == {"lambda:ListFunctionUrlConfigs": 3}
    assert stats["moto_gaps"] == {}


def test_the_simulator_lists_code_signing_configs_as_aws_does(harness, account) -> None:
    """moto lacks both listings; the simulator serves the seeder's configs, and for each the
    functions moto was told use it, paged, as requests of the client's."""
    lam = client("lambda", account.unlimited.url)
    account.unlimited.reset()
    listed = lam.list_code_signing_configs()["CodeSigningConfigs"]
    assert listed == account.configs
    release = harness.seeder.code_signing_config_arn("release")
    signed = sorted(f.name for f in account.plan.functions if f.code_signing == "release")
    assert signed, "seed 7 signs no function: the listing below would prove nothing"
    pages = lam.get_paginator("list_functions_by_code_signing_config").paginate(
        CodeSigningConfigArn=release, PaginationConfig={"PageSize": 1}
    )
    arns = [arn for page in pages for arn in page["FunctionArns"]]
    assert sorted(arn.rsplit(":", 1)[1] for arn in arns) == signed
    unknown = release.replace("csc-", "csc-f")
    with pytest.raises(ClientError) as missing:
        lam.list_functions_by_code_signing_config(CodeSigningConfigArn=unknown)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    stats = account.unlimited.stats()
    assert stats["requests"] == {
        "lambda:ListCodeSigningConfigs": 1,
        "lambda:ListFunctionsByCodeSigningConfig": len(signed) + 1,
    }
    assert stats["moto_gaps"] == {}


def test_a_paced_snapshot_through_the_simulator(harness, account, tmp_path) -> None:
    account.limited.warm()
    result = harness.bench.bench_snapshot(account.limited, tmp_path / "s.json", paced=True)
    assert result["functions"] == FUNCTIONS
    # moto's gaps (its HTML 500s) fail at once instead of being retried to the budget. The
    # simulator answers ListFunctionUrlConfigs, so the aliases' URLs are read, not marked,
    # and the code signing listings, so no function's config is read on its own.
    assert result["failed_reads"] == ["config:DescribeConformancePacks"]
    assert result["max_attempt"] <= result["attempt_budget"] == 11
    # Every call the snapshot counts went through the simulator, once unless retried.
    requests = result["requests"]
    assert sum(requests.values()) - result["retried"] == sum(result["calls"].values())
    assert set(requests) == set(result["calls"])
    assert result["calls"]["lambda:GetFunction"] == FUNCTIONS
    assert "lambda:ListVersionsByFunction" not in result["calls"]
    # The URLs of every function and alias in one listing each, and a policy per alias.
    assert result["calls"]["lambda:ListFunctionUrlConfigs"] == FUNCTIONS
    assert "lambda:GetFunctionUrlConfig" not in result["calls"]
    aliases = sum(plan.alias for plan in account.plan.functions)
    assert result["calls"]["lambda:GetPolicy"] == FUNCTIONS + aliases
    assert result["calls"]["lambda:ListCodeSigningConfigs"] == 1
    assert result["calls"]["lambda:ListFunctionsByCodeSigningConfig"] == len(account.configs)
    assert "lambda:GetFunctionCodeSigningConfig" not in result["calls"]
    section = json.loads((tmp_path / "s.json").read_text())["regions"]["us-east-1"]["lambda"]
    assert section["code_signing_read"]["path"] == "bulk"
    assert {
        function["FunctionName"]: function["CodeSigningConfigArn"]
        for function in section["functions"].values()
    } == {
        plan.name: plan.code_signing and harness.seeder.code_signing_config_arn(plan.code_signing)
        for plan in account.plan.functions
    }
    assert result["lower_bound_s"] == pytest.approx(
        result["bucket_calls"]["lambda:*"]["calls"] / 15
    )
    assert result["bottleneck"] == "lambda:*"
    assert result["wall_s"] >= result["lower_bound_s"] * 0.8

    evaluation = harness.bench.bench_evaluation(tmp_path / "s.json")
    assert evaluation["controls"] == 60 and evaluation["findings"] > FUNCTIONS

    project = tmp_path / "project"
    project.mkdir()
    run = harness.bench.bench_pytest(project, tmp_path / "s.json", workers=0)
    assert run["junit_testcases"] >= 60 and run["controls_tested"] >= 60
    assert run["peak_rss_mb"] > 20

    document = {
        "settings": {"latency_ms": 1, "seed": 7, "runs": 1, "limits": [], "paced": True},
        "sizes": [
            {
                "functions": FUNCTIONS,
                "snapshot_runs": [result],
                "evaluation_runs": [evaluation],
                "pytest_runs": {"serial": [run], "n2": [run]},
                "live_pytest": {},
            }
        ],
    }
    table = harness.report.render_table(json.loads(json.dumps(document)))
    assert f"| {FUNCTIONS} | " in table and "| lambda:GetFunction | 1.000 |" in table


def test_the_merge_benchmark(harness, tmp_path) -> None:
    """Three member accounts of two functions, merged once: the shards are real documents
    of every built-in control, and the merge is measured."""
    out = tmp_path / "merge.json"
    options = ["--accounts", "3", "--functions", "2", "--variants", "2", "--runs", "1"]
    harness.merge_bench.main([*options, "--out", str(out)])
    result = json.loads(out.read_text())
    assert (result["shards"], result["targets"]) == (3, 3)
    assert result["resource_entries"] > 3 * 2 * 40
    [measured] = result["merge"].values()
    assert measured["peak_rss_mb"] > 20 and measured["wall_s"] > 0
    assert result["outputs_equal"] is True
