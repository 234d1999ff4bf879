"""Which AWS operation an HTTP request is, read the way AWS's front doors read it.

The service and Region come from the SigV4 credential scope of the ``Authorization`` header.
The operation comes from ``X-Amz-Target`` (JSON protocols), the path of a Smithy RPC v2
request, the ``Action`` form field (query protocols), or else the HTTP method and path
matched against the routes in botocore's service models (REST protocols: Lambda, API
Gateway, S3, ...), the most specific route winning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import botocore.session

#: The services a snapshot reads; others are still counted, as ``<signing name>:?``.
SERVICES = (
    "apigateway",
    "apigatewayv2",
    "cloudtrail",
    "cloudwatch",
    "codedeploy",
    "config",
    "ec2",
    "events",
    "guardduty",
    "iam",
    "kms",
    "lambda",
    "logs",
    "organizations",
    "s3",
    "scheduler",
    "secretsmanager",
    "securityhub",
    "signer",
    "sns",
    "sqs",
    "sts",
    "wafv2",
)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_SMITHY_RPC = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    service: str
    operation: str
    protocol: str

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass(frozen=True)
class _Template:
    method: str
    pattern: re.Pattern[str]
    query_keys: frozenset[str]
    specificity: int
    route: Route


class Router:
    """Routes for :data:`SERVICES`, built once from botocore's models."""

    def __init__(self, services: tuple[str, ...] = SERVICES) -> None:
        loader = botocore.session.get_session()
        self._by_signing_name: dict[str, list[tuple[str, str]]] = {}
        self._templates: dict[str, list[_Template]] = {}
        for service in services:
            model = loader.get_service_model(service)
            protocol = model.protocol
            self._by_signing_name.setdefault(model.signing_name, []).append((service, protocol))
            if protocol.startswith("rest"):
                templates = self._templates.setdefault(model.signing_name, [])
                for operation in model.operation_names:
                    http = model.operation_model(operation).http
                    route = Route(service, operation, protocol)
                    templates.append(_template(http["method"], http["requestUri"], route))

    def identify(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Route, str]:
        """The route of a request and its Region; ``headers`` have lower-case names."""
        scope = _SCOPE.search(headers.get("authorization", ""))
        region, signing_name = scope.groups() if scope else ("unknown", "unknown")
        candidates = self._by_signing_name.get(signing_name, [(signing_name, "unknown")])
        service, protocol = candidates[0]
        if "x-amz-target" in headers:
            return Route(service, headers["x-amz-target"].rsplit(".", 1)[-1], protocol), region
        parts = urlsplit(target)
        rpc = _SMITHY_RPC.match(parts.path)
        if rpc:
            return Route(service, rpc.group(1), "smithy-rpc-v2-cbor"), region
        if protocol in ("query", "ec2"):
            form = parse_qs(body.decode(errors="replace")) or parse_qs(parts.query)
            return Route(service, form.get("Action", ["?"])[0], protocol), region
        query = set(parse_qs(parts.query, keep_blank_values=True))
        matches = [
            template
            for template in self._templates.get(signing_name, [])
            if template.method == method
            and template.query_keys <= query
            and template.pattern.fullmatch(parts.path)
        ]
        if not matches:
            return Route(service, "?", protocol), region
        return max(matches, key=lambda template: template.specificity).route, region


def _template(method: str, request_uri: str, route: Route) -> _Template:
    """A route's path as a regular expression: ``{Label}`` is one path segment,
    ``{Label+}`` any number; literal query keys (S3's ``?notification``) must be present."""
    path, _, query = request_uri.partition("?")
    pattern = ""
    position = 0
    for label in _LABEL.finditer(path):
        pattern += re.escape(path[position : label.start()])
        pattern += ".+" if label.group(1).endswith("+") else "[^/]+"
        position = label.end()
    pattern += re.escape(path[position:]).rstrip("/") + "/?"
    keys = frozenset(key for key in parse_qs(query, keep_blank_values=True) if "{" not in key)
    literal = len(_LABEL.sub("", path))
    return _Template(method, re.compile(pattern), keys, literal + 100 * len(keys), route)
