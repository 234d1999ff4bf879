"""The results document as a JSON file, checked against its published schema."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any


class DocumentError(ValueError):
    """A results document that does not follow ``results.schema.json``."""


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(resources.files(__package__).joinpath("results.schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def validate_document(document: Mapping[str, Any]) -> None:
    """Raise :class:`DocumentError` naming the first place the document breaks the schema."""
    error = next(iter(_validator().iter_errors(document)), None)
    if error is not None:
        where = "/".join(str(step) for step in error.absolute_path) or "top level"
        raise DocumentError(f"results document invalid at {where}: {error.message}")


def write_document(document: Mapping[str, Any], path: Path) -> None:
    """Validate, then write atomically (a reader never sees half a document), with the
    permissions any new file gets: the document is published, not private."""
    from pytest_prr.report.outputs import write_text

    validate_document(document)
    write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
