"""The deployer's pure parts: reading, parameters, conversion, conditions, evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.session import get_session

from pytest_prr.deploy.conditions import evaluate_conditions
from pytest_prr.deploy.conversion import ConversionError, convert
from pytest_prr.deploy.errors import TemplateError
from pytest_prr.deploy.evaluate import Context, Unresolvable, evaluate
from pytest_prr.deploy.intrinsics import Resolved
from pytest_prr.deploy.loading import read_template
from pytest_prr.deploy.parameters import read_parameter_file, resolve_parameters
from pytest_prr.deploy.verdicts import judged_before_deploy
from pytest_prr.results.model import Result
from pytest_prr.snapshot.model import Snapshot


def test_yaml_is_read_as_cloudformation_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Q:\n"
        "    Type: AWS::SQS::Queue\n"
        "    Properties:\n"
        "      Version: 2012-10-17\n"
        "      Mode: 0755\n"
        "      Account: 012345678901\n"
        "      Count: 12\n"
        "      Arn: !GetAtt Other.Arn\n"
        "      Name: !Sub '${AWS::StackName}-q'\n"
    )
    properties = read_template(path).body["Resources"]["Q"]["Properties"]
    assert properties == {
        "Version": "2012-10-17",
        "Mode": "0755",
        "Account": "012345678901",
        "Count": 12,
        "Arn": {"Fn::GetAtt": ["Other", "Arn"]},
        "Name": {"Fn::Sub": "${AWS::StackName}-q"},
    }


def test_values_are_converted_to_the_apis_types() -> None:
    model = get_session().get_service_model("lambda").operation_model("CreateFunction")
    request = {
        "MemorySize": "512",
        "Timeout": 30.0,
        "Publish": "true",
        "Environment": {"Variables": {"PORT": 8080, "DEBUG": False}},
    }
    assert convert(request, model.input_shape) == {
        "MemorySize": 512,
        "Timeout": 30,
        "Publish": True,
        "Environment": {"Variables": {"PORT": "8080", "DEBUG": "false"}},
    }
    with pytest.raises(ConversionError, match="MemorySize: 'lots' is not an integer"):
        convert({"MemorySize": "lots"}, model.input_shape)


def test_parameter_files_in_each_format(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        'version = 0.1\n[default.deploy.parameters]\nparameter_overrides = ["A=1", "B=two words"]\n'
    )
    assert read_parameter_file(samconfig) == {"A": "1", "B": "two words"}
    pipeline = tmp_path / "config.json"
    pipeline.write_text('{"Parameters": {"A": 1, "Flag": true, "Subnets": ["s-1", "s-2"]}}')
    assert read_parameter_file(pipeline) == {"A": "1", "Flag": "true", "Subnets": "s-1,s-2"}


def test_parameters_are_checked_as_cloudformation_checks_them() -> None:
    declared = {
        "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"]},
        "Size": {"Type": "Number", "Default": 3},
    }
    assert resolve_parameters(Path("t.yaml"), declared, {"Stage": "dev"}) == {
        "Stage": "dev",
        "Size": "3",
    }
    with pytest.raises(TemplateError, match=r"Parameters.Stage: 'qa' is not one of"):
        resolve_parameters(Path("t.yaml"), declared, {"Stage": "qa"})
    with pytest.raises(TemplateError, match=r"Parameters.Size: is a Number, got 'x'"):
        resolve_parameters(Path("t.yaml"), declared, {"Stage": "dev", "Size": "x"})


def test_conditions_and_intrinsics_evaluate_locally() -> None:
    template = {
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        }
    }
    conditions = evaluate_conditions(Path("t.yaml"), template, {"Stage": "prod"})
    assert conditions == {"IsProd": True, "IsDev": False}
    context = Context(
        parameters={"Stage": "prod", "Subnets": "a,b", "AWS::Region": "eu-west-1"},
        declared={"Subnets": {"Type": "CommaDelimitedList"}},
        mappings={"Sizes": {"prod": {"Memory": 1024}}},
        conditions=conditions,
        resolved={"Table": Resolved("orders", {"Arn": "arn:table"})},
        region="eu-west-1",
        absent=frozenset({"Signing"}),
    )
    properties = {
        "Name": {"Fn::Sub": "${Table}-${Stage}-${!Literal}"},
        "Arn": {"Fn::GetAtt": ["Table", "Arn"]},
        "Subnets": {"Ref": "Subnets"},
        "Memory": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
        "Tracing": {"Fn::If": ["IsDev", "Active", {"Ref": "AWS::NoValue"}]},
        "CodeSigningConfigArn": {"Ref": "Signing"},
        "Zone": {"Fn::Select": [1, {"Fn::GetAZs": ""}]},
    }
    assert evaluate(properties, context) == {
        "Name": "orders-prod-${Literal}",
        "Arn": "arn:table",
        "Subnets": ["a", "b"],
        "Memory": 1024,
        "Zone": "eu-west-1b",
    }
    with pytest.raises(Unresolvable):
        evaluate({"Fn::ImportValue": "shared-vpc"}, context)


def test_an_account_guardrail_judged_before_deploy_stands_only_where_it_passes() -> None:
    """Before deployment the moto account stands in for one nobody read: a trail the template
    (or the seed hook) made will be there, so a PASS stands; a FAIL or N/A of the stand-in
    says nothing of the real account."""
    findings = [
        Result("GOV-01", resource, status, "prr::GOV-01", message, "111122223333", region)
        for resource, region, status, message in (
            ("111122223333/eu-west-1", "eu-west-1", "pass", "trail ok"),
            ("111122223333/us-east-1", "us-east-1", "fail", "no trail"),
            ("111122223333", None, "not_applicable", "no organization"),
        )
    ]
    seeded = Snapshot({"deployments": [{"path": "template.yaml", "pre_deploy": False}]})
    assert judged_before_deploy("GOV-01", findings, seeded) == findings
    judged = Snapshot({"deployments": [{"path": "template.yaml", "pre_deploy": True}]})
    passed, failed, absent = judged_before_deploy("GOV-01", findings, judged)
    assert passed == findings[0]
    for before, after in ((findings[1], failed), (findings[2], absent)):
        assert after.status == "error"
        assert after.resource_id == before.resource_id
        assert after.message.startswith("GOV-01 is an account guardrail, and template.yaml is")
        assert after.evidence == {"pre_deploy": ["template.yaml"], "stand_in": before.message}
