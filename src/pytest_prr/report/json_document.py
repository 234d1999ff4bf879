"""The results document as a JSON file, checked against its published schema."""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from pytest_prr.report.outputs import atomic_file

#: Resource entries encoded together when a document is written a control at a time.
_BATCH = 500


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


def write_document_streaming(
    document: Mapping[str, Any],
    resources: Callable[[int], Iterable[Mapping[str, Any]]],
    path: Path,
) -> None:
    """:func:`write_document` of ``document`` with each control's resource entries taken
    from ``resources(index of the control)`` one at a time as they are written, the same
    bytes as if they had been in ``document``, where each control's ``resources`` is empty.

    ``prr merge`` writes hundreds of accounts' entries without holding them all decoded. The
    entries are not validated here: the schema judges each entry alone, so the caller
    validates them where it reads them (``prr merge``: with each input document).
    """

    validate_document(document)
    with atomic_file(path) as file:
        file.write("{")
        for position, (key, value) in enumerate(document.items()):
            file.write(f"{',' if position else ''}\n  {_key(key)}")
            if key == "controls" and value:
                _write_controls(file, value, resources)
            else:
                file.write(_nested(value, 1))
        file.write("\n}\n")


def _write_controls(
    file: TextIO,
    controls: Iterable[Mapping[str, Any]],
    resources: Callable[[int], Iterable[Mapping[str, Any]]],
) -> None:
    """The ``controls`` array at depth 1, as ``json.dump(indent=2)`` writes it."""
    file.write("[")
    for index, control in enumerate(controls):
        file.write(f"{',' if index else ''}\n    {{")
        for position, (key, value) in enumerate(control.items()):
            file.write(f"{',' if position else ''}\n      {_key(key)}")
            if key != "resources":
                file.write(_nested(value, 3))
                continue
            _write_entries(file, iter(resources(index)))
        file.write("\n    }")
    file.write("\n  ]")


def _write_entries(file: TextIO, entries: Iterator[Mapping[str, Any]]) -> None:
    """A control's ``resources`` array at depth 3, encoded a batch of entries at a time
    (one ``json.dumps`` per entry made a merge a third slower)."""
    separator = "["
    while batch := list(itertools.islice(entries, _BATCH)):
        # "[\n  {...},\n  {...}\n]": the entries at depth 1 of their own array, moved to 4.
        text = json.dumps(batch, indent=2, ensure_ascii=False)
        file.write(separator + text[1:-2].replace("\n", "\n      "))
        separator = ","
    file.write("[]" if separator == "[" else "\n      ]")


def _key(key: str) -> str:
    return f"{json.dumps(key, ensure_ascii=False)}: "


def _nested(value: Any, depth: int) -> str:
    """``value`` as ``json.dump(indent=2)`` writes it ``depth`` levels down."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * depth)
