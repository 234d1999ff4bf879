"""The built-in catalog against its spec, and users' catalog files."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest
import yaml

from pytest_prr.catalog import FRAMEWORK_KEYS, CatalogError, builtin_catalog, load_catalog

SPEC_TUNABLES = {
    "prr_runtime_warn_days": 90,
    "prr_trusted_layer_accounts": ["017000801446"],
    "prr_trusted_accounts": [],
    "prr_secret_max_age_days": 90,
    "prr_log_retention_min_days": 365,
    "prr_slo_window_days": 30,
    "prr_slo_target": 0.999,
    "prr_iac_tags": ["aws:cloudformation:stack-name"],
    "prr_required_tags": ["Owner", "CostCenter", "DataClassification", "Environment"],
    "prr_conformance_pack": "lambda-prr",
    "prr_max_memory_mb": 3008,
    "prr_max_timeout_s": 300,
}


#: SHA-256 of the spec v1.1 control table (``controls.md``) as "<ID> <title>" lines in table
#: order, taken when the catalog was last reviewed against it. The repository carries the
#: reviewed result (docs/controls.md, kept fresh below); this pins the IDs and titles to that
#: review, so a change to either is deliberate: review it against the spec, then update this.
SPEC_V11_CONTROLS_SHA256 = "705436600d41cdc4b4d78261b9103fc6cf406e8a7b2a46991541fb59b312d340"


def test_catalog_has_exactly_the_spec_controls_with_their_titles() -> None:
    catalog = builtin_catalog()
    assert len(catalog.controls) == 65
    table = "\n".join(f"{control.id} {control.title}" for control in catalog)
    assert hashlib.sha256(table.encode()).hexdigest() == SPEC_V11_CONTROLS_SHA256, (
        "the catalog's control IDs or titles differ from spec v1.1's table:\n" + table
    )


def test_every_control_but_fin_is_complete_and_maps_to_all_three_frameworks() -> None:
    catalog = builtin_catalog()
    for control in catalog:
        assert control.domain in catalog.domains
        assert control.rationale and control.remediation and control.fail_when
        for key in FRAMEWORK_KEYS:
            refs = control.frameworks[key]
            if control.domain == "FIN":
                assert refs == (), f"{control.id} is cost readiness, yet maps to {key} {refs}"
                continue
            assert refs, f"{control.id} maps to nothing in {key}"
            known = catalog.frameworks[key].by_ref
            assert all(ref in known for ref in refs), (control.id, key, refs)


#: Spec v1.1 "Mapping corrections": each control's mappings after the review, as the spec
#: states them (a correction that only adds or swaps one reference lists the whole mapping).
CORRECTED_MAPPINGS = [
    ("FIN-01", {"iso27001_2022": (), "soc2_2017": (), "nist_csf_2": ()}),
    ("FIN-02", {"iso27001_2022": (), "soc2_2017": (), "nist_csf_2": ()}),
    (
        "OBS-06",
        {"iso27001_2022": ("A.8.15",), "soc2_2017": ("CC7.2",), "nist_csf_2": ("PR.PS-04",)},
    ),
    (
        "OBS-08",
        {
            "iso27001_2022": ("A.8.16",),
            "soc2_2017": ("CC7.2",),
            "nist_csf_2": ("DE.CM-09", "PR.IR-03"),
        },
    ),
    ("SEC-07", {"nist_csf_2": ("PR.PS-05", "ID.RA-09")}),
    ("PRC-02", {"iso27001_2022": ("A.8.6",)}),
    ("DEP-06", {"nist_csf_2": ("ID.IM-04",)}),
    ("PRC-05", {"nist_csf_2": ("ID.IM-04",)}),
    ("GOV-04", {"iso27001_2022": ("A.5.36", "A.8.9", "A.5.23")}),
    ("GOV-05", {"iso27001_2022": ("A.8.8", "A.8.16", "A.5.36", "A.5.23")}),
    ("GOV-07", {"nist_csf_2": ("PR.AA-03", "PR.IR-01")}),
]


@pytest.mark.parametrize(
    ("control_id", "expected"), CORRECTED_MAPPINGS, ids=[c for c, _ in CORRECTED_MAPPINGS]
)
def test_mapping_corrections_of_spec_v1_1(control_id: str, expected: dict) -> None:
    control = builtin_catalog()[control_id]
    assert {key: control.frameworks[key] for key in expected} == expected


def test_gov07_and_its_detective_twin_sec06_map_to_the_same_csf_subcategory() -> None:
    catalog = builtin_catalog()
    assert "PR.AA-03" in catalog["GOV-07"].frameworks["nist_csf_2"]
    assert "PR.AA-03" in catalog["SEC-06"].frameworks["nist_csf_2"]


def test_catalog_version_is_the_spec_version() -> None:
    assert builtin_catalog().version == "1.1.0"


def test_framework_reference_lists_are_complete() -> None:
    frameworks = builtin_catalog().frameworks
    assert len(frameworks["iso27001_2022"].requirements) == 93
    assert len(frameworks["soc2_2017"].requirements) == 61
    assert len(frameworks["nist_csf_2"].requirements) == 106
    for framework in frameworks.values():
        refs = [requirement.ref for requirement in framework.requirements]
        assert len(refs) == len(set(refs)), framework.key
        assert all(requirement.title for requirement in framework.requirements)


def test_tunables_have_the_spec_defaults() -> None:
    declared = {t.name: t.default for control in builtin_catalog() for t in control.tunables}
    assert declared.get("prr_permission_boundary") == ""
    declared.pop("prr_permission_boundary")
    assert declared == SPEC_TUNABLES


def test_process_controls_are_attested_with_validity() -> None:
    expected = {"PRC-01": 365, "PRC-02": 90, "PRC-03": 365, "PRC-04": 180, "PRC-05": 180}
    process = {c.id: c for c in builtin_catalog() if c.domain == "PRC"}
    assert {i: c.valid_days for i, c in process.items()} == expected
    assert {c.automation for c in process.values()} == {"attested"}
    assert builtin_catalog()["FIN-01"].severity == "low"


@pytest.mark.parametrize(
    ("typo", "best"), [("SEC-4", "SEC-04"), ("sec-04", "SEC-04"), ("OBS-1", "OBS-01")]
)
def test_suggestions_for_mistyped_ids(typo: str, best: str) -> None:
    assert builtin_catalog().suggest(typo)[0] == best


TEAM_CONTROL = {
    "id": "ORD-01",
    "title": "Orders publish business metrics",
    "domain": "ORD",
    "scope": "function",
    "severity": "medium",
    "automation": "automated",
    "rule": {"fail_when": "POWERTOOLS_METRICS_NAMESPACE is not Orders"},
    "rationale": "Order volume is the first signal of an outage.",
    "remediation": "Set POWERTOOLS_METRICS_NAMESPACE=Orders.",
    "frameworks": {"iso27001_2022": ["A.8.16"], "nist_csf_2": ["DE.CM-09"]},
}


def write_catalog(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "team.yaml"
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
    path.write_text(textwrap.dedent(text))
    return path


def test_user_catalog_adds_controls_and_changes_the_version(tmp_path: Path) -> None:
    path = write_catalog(
        tmp_path, {"domains": [{"id": "ORD", "title": "Orders"}], "controls": [TEAM_CONTROL]}
    )
    catalog = load_catalog(path)
    assert list(catalog.controls)[-1] == "ORD-01"
    assert len(catalog) == len(builtin_catalog()) + 1
    assert catalog["ORD-01"].source == str(path)
    assert catalog.domains["ORD"] == "Orders"
    assert catalog.version.startswith(builtin_catalog().version + "+team.")
    assert catalog.version != load_catalog(write_catalog(tmp_path, {"controls": []})).version


def bad(**changes: object) -> dict:
    control = {**TEAM_CONTROL, **changes}
    return {"domains": [{"id": "ORD", "title": "Orders"}], "controls": [control]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("controls: [\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping with a 'controls' list"),
        (bad(severity="urgent"), "controls[0] (ORD-01).severity: 'urgent' is not one of"),
        (bad(id="ORD1"), "controls[0] (ORD1).id: 'ORD1' does not match"),
        (bad(rule={}), "controls[0] (ORD-01).rule: 'fail_when' is a required property"),
        (bad(owner="me"), "controls[0] (ORD-01): Additional properties are not allowed"),
        (
            bad(id="SEC-04", domain="SEC"),
            "controls[0] (SEC-04): the ID is already defined by the builtin catalog",
        ),
        (bad(domain="PAY", id="PAY-01"), "controls[0] (PAY-01): domain 'PAY' is not declared"),
        (bad(id="PAY-01"), "controls[0] (PAY-01): the ID must start with its domain 'ORD'"),
        (bad(frameworks={"soc2_2017": ["CC99.1"]}), "frameworks.soc2_2017: 'CC99.1' not in"),
        (bad(frameworks={"pci": ["1.1"]}), "controls[0] (ORD-01).frameworks: Additional prop"),
        (
            bad(tunables=[{"name": "prr_x", "type": "int", "default": "3", "description": "d"}]),
            "tunable prr_x: default '3' is not of type int",
        ),
        (
            {"controls": [TEAM_CONTROL, TEAM_CONTROL], "domains": [{"id": "ORD", "title": "O"}]},
            "controls[1] (ORD-01): duplicate control ID",
        ),
    ],
)
def test_malformed_user_catalog_names_file_entry_and_problem(
    tmp_path: Path, document: object, message: str
) -> None:
    path = write_catalog(tmp_path, document)
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_user_control_may_support_no_framework_requirement(tmp_path: Path) -> None:
    cost = {**TEAM_CONTROL, "frameworks": {}}
    path = write_catalog(tmp_path, {"domains": [{"id": "ORD", "title": "O"}], "controls": [cost]})
    assert set(load_catalog(path)["ORD-01"].frameworks.values()) == {()}


def test_missing_user_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the catalog file"):
        load_catalog(tmp_path / "absent.yaml")


def test_emulator_gaps_name_only_catalog_controls() -> None:
    from pytest_prr.accounts.emulators import gaps_by_control, profiles

    gaps = gaps_by_control(profiles())
    assert set(gaps) <= set(builtin_catalog().controls)
    assert {"SEC-04", "SEC-07", "REL-01", "OBS-07", "DEP-04", "GOV-04"} <= {
        control for control, by in gaps.items() if "moto" in by
    }
    assert "moto" not in gaps["SEC-03"]  # moto 5.2.5 stores KMSKeyArn; LocalStack does not
    assert "localstack" in gaps["SEC-03"]


def test_docs_controls_md_is_the_catalog_rendered() -> None:
    """docs/controls.md is the reviewed contract of every control in this repository; after a
    catalog change regenerate it: prr catalog --format markdown > docs/controls.md"""
    from pytest_prr.accounts.emulators import gaps_by_control, profiles
    from pytest_prr.report.catalog_markdown import render_catalog

    page = Path(__file__).resolve().parents[1] / "docs" / "controls.md"
    rendered = render_catalog(builtin_catalog(), emulator_gaps=gaps_by_control(profiles()))
    assert page.read_text() == rendered, "stale: prr catalog --format markdown > docs/controls.md"
