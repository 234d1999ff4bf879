"""Built-in controls: selection, tunables, and their runs as pytest items."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_prr.accounts.config import read_account_settings
from pytest_prr.catalog import CatalogError, builtin_catalog
from pytest_prr.checks.registry import registered_checks
from pytest_prr.plugin.items import select_controls

IDS = ["SEC-01", "SEC-02", "IAM-02", "OBS-01"]


@pytest.mark.parametrize(
    ("patterns", "selected", "unmatched"),
    [
        (None, IDS, []),
        ("SEC-*", ["SEC-01", "SEC-02"], []),
        ("sec-02, iam-02", ["SEC-02", "IAM-02"], []),
        ("SEC-*,XYZ-*", ["SEC-01", "SEC-02"], ["XYZ-*"]),
        # Given empty it selects nothing: once it silently ran every control.
        ("", [], ["''"]),
        (" , ", [], ["' , '"]),
    ],
)
def test_select_controls(patterns, selected, unmatched) -> None:
    assert select_controls(IDS, patterns) == (selected, unmatched)


def test_a_control_has_one_check_even_when_its_module_is_imported_again() -> None:
    """pytester's in-process runs unload and re-import the check modules."""
    import importlib
    import sys

    from pytest_prr.checks import base

    registered_checks()
    module = sys.modules["pytest_prr.checks.cost"]
    original = base.REGISTRY["FIN-01"]
    importlib.reload(module)
    assert base.REGISTRY["FIN-01"].evaluate.__qualname__ == original.evaluate.__qualname__
    with pytest.raises(ValueError, match="a check for FIN-01 is registered twice"):
        base.function_check("FIN-01")(lambda function, context: None)
    assert base.REGISTRY["FIN-01"].evaluate is module.graviton


def test_tunables_default_and_override(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.prr.tunables]
            prr_log_retention_min_days = 90
            prr_required_tags = ["Owner"]
            """
        )
    )
    settings = read_account_settings(tmp_path)
    tunables = builtin_catalog().tunables(settings.tunables, settings.tunables_origin)
    assert tunables["prr_log_retention_min_days"] == 90
    assert tunables["prr_required_tags"] == ["Owner"]
    assert tunables["prr_slo_target"] == 0.999


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "prr_log_retention_days = 90",
            "unknown tunable 'prr_log_retention_days'; did you mean prr_log_retention_min_days?",
        ),
        ('prr_slo_target = "high"', "prr_slo_target must be of type float, got 'high'"),
        ("prr_required_tags = [1, 2]", "prr_required_tags must be of type list[str]"),
        ("prr_max_memory_mb = true", "prr_max_memory_mb must be of type int, got True"),
    ],
)
def test_wrong_tunables_name_the_file_and_the_problem(tmp_path: Path, body, message) -> None:
    (tmp_path / "prr.toml").write_text(f"[tunables]\n{body}\n")
    settings = read_account_settings(tmp_path)
    with pytest.raises(CatalogError) as error:
        builtin_catalog().tunables(settings.tunables, settings.tunables_origin)
    assert str(error.value).startswith(f"{tmp_path / 'prr.toml'} [tunables]: ")
    assert message in str(error.value)


BUILTIN_SEED = """
import io, json, zipfile

def pytest_prr_seed_account(session, account):
    role = session.client("iam").create_role(
        RoleName="orders-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}),
    )["Role"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\\n    return event\\n")
    lam = session.client("lambda")
    for name, arch, tracing in (("arm", "arm64", "Active"), ("intel", "x86_64", "PassThrough")):
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role["Arn"], Handler="app.handler",
            Code={"ZipFile": archive.getvalue()}, Architectures=[arch],
            TracingConfig={"Mode": tracing},
        )
"""


@pytest.fixture
def builtin_project(project):
    project.conftest(BUILTIN_SEED)
    project.tests(
        """
        import pytest_prr as prr

        @prr.control("OBS-01")
        def test_team_also_checks_tracing(prr_snapshot):
            assert prr_snapshot.account_id == "123456789012"
        """
    )
    return project


def resources(document: dict, control_id: str) -> dict[str, str]:
    control = next(c for c in document["controls"] if c["id"] == control_id)
    return {r["id"].rsplit(":", 1)[-1]: r["status"] for r in control["resources"]}


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_builtin_controls_give_a_result_per_function(builtin_project, workers) -> None:
    result, document = builtin_project.run_json(
        "--prr-account=moto", "--prr-controls=FIN-*,OBS-01", *workers, builtin=True
    )
    result.assert_outcomes(passed=2, failed=2)
    assert resources(document, "FIN-01") == {"arm": "pass", "intel": "fail"}
    fin01 = next(c for c in document["controls"] if c["id"] == "FIN-01")
    assert fin01["tests"] == ["prr::FIN-01"]
    failing = next(r for r in fin01["resources"] if r["status"] == "fail")
    assert "intel" in failing["message"] and failing["evidence"]
    assert resources(document, "FIN-02") == {"arm": "pass", "intel": "pass"}
    obs01 = next(c for c in document["controls"] if c["id"] == "OBS-01")
    assert obs01["status"] == "fail"
    assert resources(document, "OBS-01") == {"arm": "pass", "intel": "fail", "123456789012": "pass"}
    assert obs01["tests"] == ["prr::OBS-01", "test_readiness.py::test_team_also_checks_tracing"]
    result.stdout.fnmatch_lines(
        [
            "*prr built-in control FIN-01*",
            "FAIL FIN-01 Graviton (arm64): 1 of 2 resource(s) not compliant",
            "  FAIL arn:aws:lambda:us-east-1:123456789012:function:intel: *",
            "remediation: *",
        ]
    )


def test_no_builtin_and_deselection(builtin_project) -> None:
    result, document = builtin_project.run_json("--prr-account=moto", "--prr-no-builtin")
    result.assert_outcomes(passed=1)
    assert resources(document, "FIN-01") == {}
    result = builtin_project.run(
        "--prr-account=moto", "--prr-controls=FIN-*", "-k", "not FIN-02", builtin=True
    )
    result.assert_outcomes(passed=1, failed=1, deselected=1)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--prr-controls=FIN-*,XYZ-9", "*--prr-controls: XYZ-9 matches no built-in control*"),
        ("--prr-controls=", "*--prr-controls: '' matches no built-in control*"),
    ],
)
def test_a_selection_of_nothing_stops_the_run_before_moto_starts(
    builtin_project, option: str, message: str
) -> None:
    """Once refused only after moto started, the account was seeded and read, and a 0 %
    matrix was printed (issue 15): the seed hook must not have run."""
    builtin_project.conftest(
        """
        import pathlib

        def pytest_prr_seed_account(session, account):
            pathlib.Path("seeded").write_text("yes")
        """
    )
    result = builtin_project.run("--prr-account=moto", option, builtin=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (builtin_project.path / "seeded").exists()
    assert "prr control coverage" not in result.stdout.str()


def test_a_bad_tunable_is_a_usage_error(builtin_project) -> None:
    builtin_project.pyproject("[tool.prr.tunables]\nprr_max_memory_mb = '3008'\n")
    result = builtin_project.run("--prr-account=moto", builtin=True)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*prr_max_memory_mb must be of type int, got '3008'*"])


def test_tunables_change_verdicts(builtin_project) -> None:
    builtin_project.pyproject("[tool.prr.tunables]\nprr_max_memory_mb = 64\n")
    _, document = builtin_project.run_json(
        "--prr-account=moto", "--prr-controls=FIN-02", builtin=True
    )
    assert resources(document, "FIN-02") == {"arm": "fail", "intel": "fail"}
