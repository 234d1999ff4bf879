"""The results document as a JSON file, checked against its published schema."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pytest_prr.report.outputs import atomic_file


class DocumentError(ValueError):
    """A results document that does not follow ``results.schema.json``."""


@functools.cache
def _validator() -> Any:
    """The results schema, compiled by jsonschema-rs.

    The rest of the tool validates its small inputs (catalog, waivers, manifests) with
    jsonschema; this document grows with the account (96,000 resource entries at 2,000
    functions), where jsonschema took 6 s of a 26 s run and jsonschema-rs takes 0.04 s.
    """
    # the validator loads only when a file is validated
    import jsonschema_rs

    schema = json.loads(resources.files(__package__).joinpath("results.schema.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def validate_document(document: Mapping[str, Any]) -> None:
    """Raise :class:`DocumentError` naming the first place the document breaks the schema."""
    error = next(iter(_validator().iter_errors(document)), None)
    if error is not None:
        where = "/".join(str(step) for step in error.instance_path) or "top level"
        raise DocumentError(f"results document invalid at {where}: {error.message}")


def write_document(document: Mapping[str, Any], path: Path) -> None:
    """Validate, then write atomically (a reader never sees half a document), with the
    permissions any new file gets: the document is published, not private.

    The JSON is streamed to the file: rendered whole, a 2,000-function account's document
    was a string of hundreds of megabytes on top of the document itself.
    """

    validate_document(document)
    with atomic_file(path) as file:
        json.dump(document, file, indent=2, ensure_ascii=False)
        file.write("\n")
