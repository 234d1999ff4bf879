"""ASFF export: one finding per failed or errored resource, within the API's constraints."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from documents import CATALOG, WHEN, account_run, account_snapshot, document
from pytest_prr.commands.cli import main
from pytest_prr.report.asff import (
    FINDING_TYPE,
    FindingError,
    finding_id,
    to_asff,
    validate_findings,
)
from snapshots import make_function

ORDERS = account_run(
    account_snapshot(
        "111111111111", [make_function("orders-api"), make_function("legacy", Runtime="python3.8")]
    )
)
PAYMENTS = account_run(
    account_snapshot("222222222222", [make_function("payments")], regions=("eu-west-1",)),
    user_test_status="fail",
)
DOCUMENT = document(ORDERS, PAYMENTS)
FINDINGS = to_asff(DOCUMENT)
#: The required top-level attributes, as the Security Hub user guide lists them.
REQUIRED = [
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Severity",
    "Title",
    "Types",
    "UpdatedAt",
]


def finding_for(control_id: str, resource_part: str, findings=FINDINGS) -> dict[str, Any]:
    (found,) = [
        f
        for f in findings
        if f["GeneratorId"] == f"pytest-prr/{control_id}"
        and resource_part in f["Resources"][0]["Id"]
    ]
    return found


def test_one_finding_per_failed_or_errored_resource() -> None:
    expected = {
        (control["id"], entry["account_id"], entry.get("region"), entry["id"])
        for control in DOCUMENT["controls"]
        for entry in control["resources"]
        if entry["status"] in ("fail", "error")
    }
    assert len(FINDINGS) == len(expected) > 40
    assert {f["Id"] for f in FINDINGS} == {finding_id(*key) for key in expected}
    validate_findings(FINDINGS)
    assert {f["Compliance"]["Status"] for f in FINDINGS} == {"FAILED", "NOT_AVAILABLE"}
    assert {f["AwsAccountId"] for f in FINDINGS} == {"111111111111", "222222222222"}


def test_a_failing_function() -> None:
    finding = finding_for("SEC-01", "function:legacy")
    control = CATALOG["SEC-01"]
    entry = next(
        e
        for c in DOCUMENT["controls"]
        if c["id"] == "SEC-01"
        for e in c["resources"]
        if e["id"].endswith(":legacy")
    )
    remediation = control.remediation.strip()
    if len(remediation) > 512:  # ASFF's limit: cut, and say so with an ellipsis
        remediation = remediation[:511] + "…"
    assert finding == {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id("SEC-01", "111111111111", "us-east-1", entry["id"]),
        "ProductArn": ("arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"),
        "GeneratorId": "pytest-prr/SEC-01",
        "AwsAccountId": "111111111111",
        "Types": [FINDING_TYPE],
        "CreatedAt": "2026-11-28T12:30:00Z",
        "UpdatedAt": "2026-11-28T12:30:00Z",
        "Severity": {"Label": control.severity.upper(), "Original": control.severity},
        "Title": f"SEC-01 {control.title}: legacy",
        "Description": entry["message"],
        "Remediation": {"Recommendation": {"Text": remediation}},
        "ProductFields": {
            "ProviderName": "pytest-prr",
            "ProviderVersion": "test",
            "pytest-prr/ControlId": "SEC-01",
            "pytest-prr/Domain": "SEC",
            "pytest-prr/Status": "fail",
            "pytest-prr/CatalogVersion": CATALOG.version,
            "pytest-prr/Tests": "prr::SEC-01",
        },
        "Resources": [
            {
                "Type": "AwsLambdaFunction",
                "Id": "arn:aws:lambda:us-east-1:111111111111:function:legacy",
                "Partition": "aws",
                "Region": "us-east-1",
            }
        ],
        "Compliance": {
            "Status": "FAILED",
            "RelatedRequirements": [
                f"{label} {ref}"
                for key, label in (
                    ("iso27001_2022", "ISO/IEC 27001:2022"),
                    ("soc2_2017", "SOC 2 (2017 TSC)"),
                    ("nist_csf_2", "NIST CSF 2.0"),
                )
                for ref in control.frameworks.get(key, ())
            ],
        },
        "FindingProviderFields": {
            "Severity": {"Label": control.severity.upper(), "Original": control.severity},
            "Types": [FINDING_TYPE],
        },
    }
    assert "python3.8" in finding["Description"]


def test_an_unevaluated_account_control_is_not_available_never_passed() -> None:
    finding = finding_for("GOV-01", "222222222222")
    assert finding["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert finding["Title"].startswith("[not evaluated] GOV-01 ")
    assert "cloudtrail:DescribeTrails failed (AccessDeniedException)" in finding["Description"]
    assert finding["Resources"] == [
        {"Type": "AwsAccount", "Id": "AWS::::Account:222222222222", "Region": "eu-west-1"}
    ]
    assert finding["ProductArn"].startswith("arn:aws:securityhub:eu-west-1:222222222222:")
    assert finding["ProductFields"]["pytest-prr/Status"] == "error"


def test_account_wide_and_workload_findings_go_to_the_account_s_first_region() -> None:
    workload = finding_for(
        "PRC-01", "workload", [f for f in FINDINGS if f["AwsAccountId"] == "222222222222"]
    )
    assert workload["Resources"] == [{"Type": "Other", "Id": "workload"}]
    assert workload["ProductArn"].split(":")[3] == "eu-west-1"
    user_test = finding_for("DAT-01", "222222222222")
    assert user_test["Resources"] == [{"Type": "AwsAccount", "Id": "AWS::::Account:222222222222"}]
    assert user_test["Description"] == "PITR is off"
    assert user_test["ProductFields"]["pytest-prr/Tests"] == (
        "tests/test_orders.py::test_orders_table_has_pitr"
    )


def test_passes_not_applicable_and_waived_resources_are_not_exported() -> None:
    waived = copy.deepcopy(DOCUMENT)
    for control in waived["controls"]:
        for entry in control["resources"]:
            if entry["status"] == "fail":
                entry.update(status="waived", original_status="fail")
    remaining = to_asff(waived)
    assert remaining and {f["ProductFields"]["pytest-prr/Status"] for f in remaining} == {"error"}
    exported = {(f["GeneratorId"][11:], f["Resources"][0]["Id"]) for f in FINDINGS}
    for control in DOCUMENT["controls"]:
        for entry in control["resources"]:
            if entry["status"] in ("pass", "not_applicable") and entry["id"].startswith("arn:"):
                assert (control["id"], entry["id"]) not in exported


def test_ids_are_stable_across_runs_and_distinct_across_resources() -> None:
    rerun = account_run(
        account_snapshot(
            "111111111111",
            [make_function("orders-api"), make_function("legacy", Runtime="python3.8")],
        )
    )
    later = document(rerun, generated_at=WHEN + datetime.timedelta(days=1), tool_version="2")
    again = to_asff(later)
    ours = [f for f in FINDINGS if f["AwsAccountId"] == "111111111111"]
    assert [f["Id"] for f in again] == [f["Id"] for f in ours]
    assert again[0]["UpdatedAt"] == "2026-11-29T12:30:00Z"
    assert len({f["Id"] for f in FINDINGS}) == len(FINDINGS)
    assert finding_id("SEC-01", "111111111111", None, "x") != finding_id(
        "SEC-01", "111111111111", "us-east-1", "x"
    )
    assert len(finding_id("SEC-01", "111111111111", "us-east-1", "arn:" + "x" * 3000)) < 80


def test_same_document_same_findings_and_the_time_can_be_given() -> None:
    assert to_asff(DOCUMENT) == FINDINGS
    moment = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    stamped = to_asff(DOCUMENT, generated_at=moment)
    assert {(f["CreatedAt"], f["UpdatedAt"]) for f in stamped} == {
        ("2027-01-02T03:04:05Z", "2027-01-02T03:04:05Z")
    }


def test_an_explicit_product_arn() -> None:
    arn = "arn:aws:securityhub:eu-central-1:999999999999:product/999999999999/default"
    assert {f["ProductArn"] for f in to_asff(DOCUMENT, product_arn=arn)} == {arn}


def test_api_gateway_stages_and_long_texts() -> None:
    staged = copy.deepcopy(document(ORDERS))
    api = next(c for c in staged["controls"] if c["id"] == "API-01")
    rest = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod"
    http = "arn:aws:apigateway:us-east-1::/apis/d4e5f6/stages/$default"
    api["resources"] = [
        {
            "id": rest,
            "status": "fail",
            "account_id": "111111111111",
            "region": "us-east-1",
            "message": "x" * 5000,
            "test": "prr::API-01",
        },
        {
            "id": http,
            "status": "fail",
            "account_id": "111111111111",
            "region": "us-east-1",
            "message": "no access logs",
            "test": "prr::API-01",
        },
    ]
    api["title"] = "t" * 400
    api["status"] = "fail"
    findings = to_asff(staged)
    validate_findings(findings)
    rest_finding = finding_for("API-01", "restapis", findings)
    assert rest_finding["Resources"][0]["Type"] == "AwsApiGatewayStage"
    assert finding_for("API-01", "/apis/", findings)["Resources"][0]["Type"] == (
        "AwsApiGatewayV2Stage"
    )
    assert len(rest_finding["Title"]) == 256 and rest_finding["Title"].endswith("…")
    assert len(rest_finding["Description"]) == 1024
    assert rest_finding["Description"] == "x" * 1023 + "…"
    long_remediation = [
        f for f in FINDINGS if len(CATALOG[f["GeneratorId"][11:]].remediation) > 512
    ]
    assert long_remediation, "the catalog has remediations longer than the API's 512"
    for finding in long_remediation:
        assert len(finding["Remediation"]["Recommendation"]["Text"]) == 512


def test_two_tests_failing_one_resource_make_one_finding() -> None:
    twice = copy.deepcopy(document(ORDERS))
    control = next(c for c in twice["controls"] if c["id"] == "DAT-01")
    entry = next(e for e in control["resources"] if e["id"] == "111111111111")
    control["resources"].append({**entry, "status": "error", "message": "boom", "test": "t2"})
    entry.update(status="fail", message="PITR is off")
    (finding,) = [
        f
        for f in to_asff(twice)
        if f["Resources"][0]["Id"] == "AWS::::Account:111111111111"
        and f["GeneratorId"] == "pytest-prr/DAT-01"
    ]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["Description"] == "PITR is off; boom"


def test_a_resource_of_no_target_account_is_refused() -> None:
    stray = copy.deepcopy(DOCUMENT)
    control = next(c for c in stray["controls"] if c["id"] == "SEC-01")
    next(e for e in control["resources"] if e["status"] == "fail")["account_id"] = "555555555555"
    with pytest.raises(ValueError, match="account 555555555555 is not a target of the document"):
        to_asff(stray)


def test_an_invalid_document_is_refused() -> None:
    broken = copy.deepcopy(DOCUMENT)
    del broken["targets"]
    with pytest.raises(ValueError, match="results document invalid at top level"):
        to_asff(broken)


# The schema the findings are checked against ----------------------------------------


def test_the_schema_requires_exactly_the_documented_attributes() -> None:
    from importlib import resources

    schema = json.loads(
        resources.files("pytest_prr.report").joinpath("asff.schema.json").read_text()
    )
    assert sorted(schema["required"]) == REQUIRED


@pytest.mark.parametrize("attribute", REQUIRED)
def test_a_finding_without_a_required_attribute_is_invalid(attribute: str) -> None:
    finding = copy.deepcopy(FINDINGS[0])
    del finding[attribute]
    with pytest.raises(FindingError, match=rf"^finding 0 .* '{attribute}' is a required property"):
        validate_findings([finding])


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"Title": "t" * 257}, "Title"),
        ({"Description": "d" * 1025}, "Description"),
        ({"Description": "   "}, "Description"),
        ({"Id": "i" * 513}, "Id"),
        ({"GeneratorId": "g" * 513}, "GeneratorId"),
        ({"SchemaVersion": "2019-01-01"}, "SchemaVersion"),
        ({"AwsAccountId": "1234"}, "AwsAccountId"),
        ({"Severity": {"Label": "SEVERE"}}, "Severity/Label"),
        ({"Types": ["Readiness/Checks"]}, "Types/0"),
        ({"Types": []}, "Types"),
        ({"Resources": []}, "Resources"),
        ({"Resources": [{"Type": "AwsAccount", "Id": "a"}] * 33}, "Resources"),
        (
            {"Resources": [{"Type": "AwsAccount", "Id": "a", "Region": "r" * 17}]},
            "Resources/0/Region",
        ),
        ({"CreatedAt": "yesterday"}, "CreatedAt"),
        ({"UpdatedAt": "2026-11-28 12:00:00"}, "UpdatedAt"),
        ({"ProductArn": "arn:aws:s3:::bucket"}, "ProductArn"),
        ({"Compliance": {"Status": "PASS"}}, "Compliance/Status"),
        ({"Compliance": {"RelatedRequirements": ["r"] * 33}}, "Compliance/RelatedRequirements"),
        (
            {"Remediation": {"Recommendation": {"Text": "r" * 513}}},
            "Remediation/Recommendation/Text",
        ),
        ({"ProductFields": {"k" * 129: "v"}}, "ProductFields"),
        ({"ProductFields": {"k": "v" * 2049}}, "ProductFields/k"),
    ],
)
def test_constraints_of_the_api_reference(change: dict[str, Any], where: str) -> None:
    finding = {**copy.deepcopy(FINDINGS[0]), **change}
    with pytest.raises(FindingError, match=rf"^finding 0 \(.*\) invalid at {where}:"):
        validate_findings([finding])


# The command -------------------------------------------------------------------------


def test_prr_export_asff_writes_the_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "results.json"
    source.write_text(json.dumps(DOCUMENT))
    out = tmp_path / "out" / "findings.json"
    assert main(["export-asff", str(source), "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == {"Findings": FINDINGS}
    assert (
        capsys.readouterr().out == f"prr export-asff: {len(FINDINGS)} finding(s) written to {out}\n"
    )
    assert main(["export-asff", str(source)]) == 0
    assert json.loads(capsys.readouterr().out) == {"Findings": FINDINGS}


@pytest.mark.parametrize(
    ("contents", "extra", "message"),
    [
        ("{", [], "results.json: not a JSON document"),
        ("{}", [], 'results.json: results document invalid at top level: "schema" is a required'),
        (None, [], "results.json: cannot be read: No such file or directory"),
        (json.dumps(DOCUMENT), ["--region", "us-east-1"], "only apply with --import"),
        (
            json.dumps(DOCUMENT),
            ["--import", "--profile", "p", "--endpoint-url", "http://x"],
            "either --profile or --endpoint-url",
        ),
        (
            json.dumps(DOCUMENT),
            ["--product-arn", "arn:aws:s3:::not-a-product"],
            "invalid at ProductArn",
        ),
    ],
)
def test_prr_export_asff_refuses_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], contents, extra, message
) -> None:
    source = tmp_path / "results.json"
    if contents is not None:
        source.write_text(contents)
    assert main(["export-asff", str(source), *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""
