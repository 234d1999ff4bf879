"""The reference handling the deployer relies on to order and rewrite resources."""

from __future__ import annotations

import pytest

from pytest_prr.deploy.intrinsics import ABSENT, Resolved, references, substitute

ALIAS = Resolved("arn:aws:lambda:us-east-1:123456789012:function:f:live")
TABLE = Resolved("orders-prod", {"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders"})


def test_references_cover_ref_getatt_and_sub_but_not_sub_locals_or_escapes() -> None:
    fragment = {
        "A": {"Ref": "Topic"},
        "B": [{"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::GetAtt": "Queue.Arn"}],
        "C": {"Fn::Sub": "${Fn}-${Role.Arn}-${!Literal}-${AWS::Region}"},
        "D": {"Fn::Sub": ["${Local}/${Api}", {"Local": {"Ref": "Stage"}}]},
    }
    assert references(fragment) == {
        "Topic", "Table", "Queue", "Fn", "Role", "AWS::Region", "Api", "Stage",
    }  # fmt: skip


def test_substitute_replaces_resolved_references_and_keeps_the_others() -> None:
    fragment = {
        "FunctionName": {"Ref": "Alias"},
        "Resource": {"Fn::GetAtt": ["Table", "Arn"]},
        "Uri": {"Fn::Sub": "arn:${AWS::Partition}:x/${Alias}/${Table.Arn}/${Other}"},
        "Queue": {"Ref": "Queue"},
    }
    assert substitute(fragment, {"Alias": ALIAS, "Table": TABLE}, set()) == {
        "FunctionName": ALIAS.ref,
        "Resource": TABLE.attributes["Arn"],
        "Uri": {
            "Fn::Sub": f"arn:${{AWS::Partition}}:x/{ALIAS.ref}/{TABLE.attributes['Arn']}/${{Other}}"
        },
        "Queue": {"Ref": "Queue"},
    }  # fmt: skip


def test_a_reference_to_an_absent_resource_drops_the_property_that_holds_it() -> None:
    function = {
        "Handler": "app.handler",
        "CodeSigningConfigArn": {"Ref": "Signing"},
        "Layers": [{"Ref": "Signing"}, "arn:layer"],
        "Name": {"Fn::Sub": "${Signing}-x"},
    }
    assert substitute(function, {}, {"Signing"}) == {
        "Handler": "app.handler",
        "Layers": ["arn:layer"],
    }
    assert substitute({"Ref": "Signing"}, {}, {"Signing"}) is ABSENT


def test_an_attribute_the_deployer_does_not_know_is_an_error_not_a_guess() -> None:
    with pytest.raises(KeyError, match=r"Alias\.Arn"):
        substitute({"Fn::GetAtt": ["Alias", "Arn"]}, {"Alias": ALIAS}, set())
