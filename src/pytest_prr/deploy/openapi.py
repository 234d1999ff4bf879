"""Reading an API definition as API Gateway's importer reads it: Swagger 2.0 or OpenAPI 3.

moto imports only OpenAPI 3, skips method security, and takes ``x-amazon-apigateway-any-method``
for a method name; SAM writes REST APIs as Swagger 2.0 unless told otherwise. So the
deployer imports definitions itself (see :mod:`~pytest_prr.deploy.apigateway`), from what
this module reads out of either format: each operation with its integration, and the
security each one requires, resolved to API Gateway's authorization types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

ANY_METHOD = "x-amazon-apigateway-any-method"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", ANY_METHOD})
INTEGRATION = "x-amazon-apigateway-integration"
AUTHORIZER = "x-amazon-apigateway-authorizer"
AUTHTYPE = "x-amazon-apigateway-authtype"


@dataclass(frozen=True)
class Scheme:
    """A security scheme: how API Gateway authorizes a method that requires it."""

    name: str
    #: "AWS_IAM", "AUTHORIZER" (an authorizer to create: ``authorizer``) or "API_KEY".
    kind: str
    authorizer: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    path: str
    #: Upper case, ANY for ``x-amazon-apigateway-any-method``.
    method: str
    integration: Mapping[str, Any] | None
    schemes: tuple[Scheme, ...]
    #: OAuth scopes the operation's security requirement names.
    scopes: tuple[str, ...] = ()


def parse_definition(text: str | bytes) -> dict[str, Any]:
    """A definition stored as JSON or YAML text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError("the API definition has no paths")
    return document


def schemes(definition: Mapping[str, Any]) -> dict[str, Scheme]:
    """Security schemes by name (``securityDefinitions`` in 2.0, ``components`` in 3)."""
    declared = definition.get("securityDefinitions") or definition.get("components", {}).get(
        "securitySchemes", {}
    )
    found = {}
    for name, scheme in (declared or {}).items():
        if AUTHORIZER in scheme:
            found[name] = Scheme(name, "AUTHORIZER", scheme[AUTHORIZER])
        elif scheme.get(AUTHTYPE) == "awsSigv4":
            found[name] = Scheme(name, "AWS_IAM")
        elif scheme.get("type") == "apiKey":
            found[name] = Scheme(name, "API_KEY")
        else:
            raise ValueError(f"security scheme {name!r} is not one API Gateway imports")
    return found


def operations(definition: Mapping[str, Any]) -> Iterator[Operation]:
    """Every operation of the definition, with the security it requires (an operation's
    own ``security``, else the definition's)."""
    known = schemes(definition)
    default = definition.get("security", [])
    for path, item in sorted(definition.get("paths", {}).items()):
        for verb, operation in sorted((item or {}).items()):
            if verb.lower() not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            requirements = operation.get("security", default) or []
            names = [name for requirement in requirements for name in requirement]
            missing = [name for name in names if name not in known]
            if missing:
                raise ValueError(f"{verb.upper()} {path} requires undeclared {missing}")
            scopes = tuple(
                scope
                for requirement in requirements
                for value in requirement.values()
                for scope in value
            )
            yield Operation(
                path=path,
                method="ANY" if verb.lower() == ANY_METHOD else verb.upper(),
                integration=operation.get(INTEGRATION),
                schemes=tuple(known[name] for name in names),
                scopes=scopes,
            )
