"""Where a fallback creates its resource, and how it makes the call CloudFormation makes.

A fallback receives a resource's properties as CloudFormation resolved them, and makes the
API call CloudFormation's resource handler makes. :meth:`Target.call` converts the request to
the API's types first (:mod:`~pytest_prr.deploy.conversion`); :func:`request_for` takes the
properties an operation accepts under the same name, so a fallback lists only what differs.
A property no call applies stops the deployment (:func:`check_known`): a template setting is
never silently lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore import xform_name

from pytest_prr.deploy.conversion import convert
from pytest_prr.deploy.intrinsics import Resolved


@dataclass(frozen=True)
class Target:
    """Where the stack goes: the session on the moto server, its region, the stack name."""

    session: boto3.Session
    region: str
    stack_name: str
    #: The template, as requests that declare a function's configuration name it.
    source: str = "template"
    #: The stack's ID, as CloudFormation tags what it creates with it (``aws:cloudformation:*``).
    stack_id: str = ""
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def client(self, service: str) -> Any:
        """One client per service for the deployment: creating one costs more than a call."""
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def call(
        self,
        service: str,
        operation: str,
        headers: Mapping[str, str] | None = None,
        **request: Any,
    ) -> dict[str, Any]:
        """``service.operation(**request)``, the request converted to the API's types and
        sent with ``headers``."""
        client = self.client(service)
        if headers:

            def add_headers(request: Any, **_: Any) -> None:
                for name, value in headers.items():
                    request.headers[name] = value

            event, unique_id = f"before-sign.{service}.{operation}", f"prr-headers.{operation}"
            client.meta.events.unregister(event, unique_id=unique_id)
            client.meta.events.register(event, add_headers, unique_id=unique_id)
        shape = client.meta.service_model.operation_model(operation).input_shape
        return getattr(client, xform_name(operation))(**convert(request, shape))

    def default_name(self, logical_id: str, limit: int = 64) -> str:
        """The physical name CloudFormation gives a resource the template does not name."""
        return f"{self.stack_name}-{logical_id}"[:limit]


#: Creates one resource from its resolved properties: (target, logical id, properties).
Fallback = Callable[[Target, str, dict[str, Any]], Resolved]


def request_for(
    target: Target,
    service: str,
    operation: str,
    properties: Mapping[str, Any],
    renamed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The properties ``operation`` takes: those named as its parameters, and ``renamed``
    ones (property -> parameter)."""
    model = target.client(service).meta.service_model.operation_model(operation)
    members = model.input_shape.members
    renamed = renamed or {}
    request = {key: value for key, value in properties.items() if key in members}
    request.update({renamed[key]: value for key, value in properties.items() if key in renamed})
    return request


def check_known(logical_id: str, properties: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse properties the fallback would not apply: a template setting is never lost."""
    unknown = sorted(set(properties) - set(known))
    if unknown:
        raise NotImplementedError(
            f"{logical_id}: pytest-prr's deployer does not apply the properties {unknown}"
        )


def attribute_text(value: Any) -> str:
    """A queue, topic or subscription attribute as the API takes it: a string, JSON for a
    document, ``true``/``false`` for a boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def tag_list(tags: Any) -> list[dict[str, str]]:
    """CloudFormation's tags (a list of Key/Value, or a SAM map) as a list of Key/Value."""
    if isinstance(tags, dict):
        return [{"Key": key, "Value": value} for key, value in tags.items()]
    return list(tags or [])


def tag_map(tags: Any) -> dict[str, str]:
    """CloudFormation's tags (a list of Key/Value, or a SAM map) as a map."""
    if isinstance(tags, dict):
        return dict(tags)
    return {tag["Key"]: tag["Value"] for tag in tags or []}
