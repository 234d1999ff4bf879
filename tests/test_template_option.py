"""``pytest --prr-template``: a team's template judged before it ships, end to end.

Each project here is what the issue's "done" asks for: a directory with nothing but a
template, its code and a trivial test file, run with pytest as a developer or CI would.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path

import pytest

# pytester's in-process runs forget the modules first imported inside them, and PyYAML's C
# loader does not survive being imported twice: import it once, before any run.
import yaml  # noqa: F401

from conftest import Project, validate_results

#: A SAM service the suite has not seen elsewhere: a queue and topic consumer with a
#: function-level dead-letter queue and JSON logs, which moto accepts and drops (the
#: deployer's request carries them, so they are decided as declared), a public function URL,
#: a secret named through a dynamic reference, a code signing config (which moto cannot
#: hold), and a policy whose unquoted Version plain YAML would read as a date.
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
  MemorySize:
    Type: Number
    Default: 256
Resources:
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub billing-consumer-${Stage}
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      CodeSigningConfigArn: !Ref Signing
      MemorySize: !Ref MemorySize
      DeadLetterQueue:
        Type: SQS
        TargetArn: !GetAtt DeadLetters.Arn
      LoggingConfig:
        LogFormat: JSON
        ApplicationLogLevel: INFO
      Environment:
        Variables:
          DB_PASSWORD: "{{resolve:secretsmanager:billing-db:SecretString:password}}"
      Policies:
        - SQSPollerPolicy:
            QueueName: !GetAtt Invoices.QueueName
        - Version: 2012-10-17
          Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: arn:aws:s3:::invoices-0755/*
      FunctionUrlConfig:
        AuthType: NONE
      Events:
        Invoices:
          Type: SQS
          Properties:
            Queue: !GetAtt Invoices.Arn
        Alerts:
          Type: SNS
          Properties:
            Topic: !Ref Alerts
  Alerts:
    Type: AWS::SNS::Topic
  Invoices:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
  DeadLetters:
    Type: AWS::SQS::Queue
  Signing:
    Type: AWS::Lambda::CodeSigningConfig
    Properties:
      AllowedPublishers:
        SigningProfileVersionArns:
          - arn:aws:signer:us-east-1:123456789012:/signing-profiles/billing/v1
"""


def billing_project(project: Project, template: str = TEMPLATE) -> Path:
    path = project.path / "template.yaml"
    path.write_text(template)
    (project.path / "src").mkdir(exist_ok=True)
    (project.path / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    project.tests("def test_trivial():\n    assert True\n", name="test_trivial")
    return path


def resources_of(document: dict, control_id: str) -> list[dict]:
    return next(c for c in document["controls"] if c["id"] == control_id)["resources"]


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_template_is_deployed_and_judged_like_a_moto_account(
    project: Project, results_schema: dict, workers: list[str]
) -> None:
    path = billing_project(project)
    result, document = project.run_json(
        "--prr-template=template.yaml",
        "--prr-template-param=Stage=prod",
        "--prr-controls=REL-01,SEC-02,SEC-06,OBS-07,SEC-04,DEP-03,DEP-04,GOV-01",
        *workers,
        builtin=True,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    validate_results(document, results_schema)
    [target] = document["targets"]
    assert target["mode"] == "template"
    assert target["template"] == {
        "path": "template.yaml",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "parameters": {"Stage": "prod", "MemorySize": "256"},
        "unsupported": [
            {
                "logical_id": "Signing",
                "type": "AWS::Lambda::CodeSigningConfig",
                "reason": "moto implements no Lambda code signing configs",
            }
        ],
    }
    statuses = {c["id"]: c["status"] for c in document["controls"] if c["resources"]}
    # The public URL (SEC-06) and the dynamic reference to a secret (SEC-02, spec v1.1) fail;
    # the dead-letter queue and JSON logs moto drops are decided as the template declares;
    # the code signing config moto cannot hold leaves its controls undecided.
    assert statuses == {
        "REL-01": "pass",
        "SEC-02": "fail",
        "SEC-06": "fail",
        "OBS-07": "pass",
        "SEC-04": "error",
        "DEP-03": "error",
        "DEP-04": "pass",
        "GOV-01": "error",
    }
    for control_id in ("SEC-04", "DEP-03"):
        [resource] = resources_of(document, control_id)
        assert resource["message"].startswith(
            "template.yaml: Signing (AWS::Lambda::CodeSigningConfig) was not deployed: moto "
            f"implements no Lambda code signing configs; {control_id} cannot be decided"
        )
    [rel01] = resources_of(document, "REL-01")
    assert "declared by template.yaml (Consumer)" in json.dumps(rel01["evidence"])
    assert "password" not in json.dumps(resources_of(document, "SEC-02"))
    # CloudFormation tags what it creates with its stack, which the Lambda API cannot set:
    # the function carries the tags it will have, saying where they come from.
    [dep04] = resources_of(document, "DEP-04")
    assert dep04["evidence"]["provenance"]["Tags"].startswith(
        "aws:cloudformation:* tags as CloudFormation sets them when it deploys "
        "template.yaml (Consumer)"
    )
    # The moto account stands in for an account nobody read: its guardrails are not decided.
    [gov01] = resources_of(document, "GOV-01")
    assert gov01["message"] == (
        "GOV-01 is an account guardrail, and template.yaml is judged before it is deployed, "
        "in pytest-prr's moto account rather than the account it will deploy into: decide it "
        "on that account (pytest --prr-account)"
    )
    # the trivial test, REL-01, OBS-07 and DEP-04
    assert result.parseoutcomes()["passed"] == 4


def test_parameters_come_from_files_and_pairs_and_a_typo_is_refused(project: Project) -> None:
    billing_project(project)
    (project.path / "params.json").write_text(
        json.dumps([{"ParameterKey": "Stage", "ParameterValue": "dev"}])
    )
    (project.path / "samconfig.toml").write_text(
        '[default.deploy.parameters]\nparameter_overrides = "Stage=prod MemorySize=512"\n'
    )
    _, document = project.run_json(
        "--prr-template=template.yaml",
        "--prr-template-params=params.json",
        "--prr-template-params=samconfig.toml",
        "--prr-template-param=MemorySize=1024",
    )
    parameters = document["targets"][0]["template"]["parameters"]
    assert parameters == {"Stage": "prod", "MemorySize": "1024"}
    result = project.run("--prr-template=template.yaml", "--prr-template-param=Stag=prod")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*template.yaml: Parameters: Stag given, but not declared (declared: MemorySize, Stage)"]
    )


def test_template_options_need_a_template(project: Project) -> None:
    billing_project(project)
    result = project.run("--prr-template-param=Stage=dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prr-template-param(s) give a template's parameters*"])


def test_the_ini_names_the_template(project: Project) -> None:
    billing_project(project)
    project.pyproject('[tool.pytest.ini_options]\nprr_template = "template.yaml"\n')
    result = project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*template.yaml: Parameters.Stage: has no Default*"])


#: Broken templates: (what breaks, the template, the message's tail after the file name).
BAD_TEMPLATES = {
    "not YAML": ("Resources: [unclosed\n", ": not valid YAML: *"),
    "missing parameter": (
        TEMPLATE,
        ": Parameters.Stage: has no Default and no value was given: pass "
        "--prr-template-param Stage=VALUE*",
    ),
    "failed transform": (
        TEMPLATE.replace("Type: SNS\n", "Type: Carrier\n"),
        ": Resources.Consumer: the SAM transform failed: *Carrier*",
    ),
    "unresolvable reference": (
        TEMPLATE.replace("!GetAtt DeadLetters.Arn", "!GetAtt Graveyard.Arn"),
        ": Resources.Consumer: refers to Graveyard, which the template does not declare*",
    ),
    "missing code": (
        TEMPLATE.replace("CodeUri: src/", "CodeUri: build/"),
        ": Resources.Consumer: CodeUri 'build/' does not exist*",
    ),
}


@pytest.mark.parametrize("case", BAD_TEMPLATES, ids=list(BAD_TEMPLATES))
def test_a_bad_template_is_one_usage_error_naming_file_resource_and_problem(
    project: Project, case: str
) -> None:
    template, message = BAD_TEMPLATES[case]
    billing_project(project, template)
    stage = [] if case == "missing parameter" else ["--prr-template-param=Stage=dev"]
    result = project.run("--prr-template=template.yaml", *stage)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: prr:")]
    assert len(errors) == 1, result.stderr.str()
    assert fnmatch.fnmatch(errors[0], f"ERROR: prr: template.yaml{message}"), errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_template_the_account_refuses_is_a_usage_error_too(project: Project) -> None:
    """Known only once deploying: a layer of this account that does not exist."""
    layer = "arn:aws:lambda:us-east-1:123456789012:layer:missing:1"
    billing_project(
        project,
        TEMPLATE.replace(
            "      CodeUri: src/\n", f"      CodeUri: src/\n      Layers: [{layer}]\n"
        ),
    )
    result = project.run("--prr-template=template.yaml", "--prr-template-param=Stage=dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert (
        "prr: template.yaml: Resources.Consumer: AWS::Lambda::Function could not be created on "
        "moto: An error occurred (ResourceNotFoundException)"
    ) in output
    assert "Traceback" not in output
