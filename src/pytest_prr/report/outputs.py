"""Render a results document to the files a user asked for, one format per file.

Both ``prr report`` and the plugin's ``--prr-html``/``--prr-csv``/``--prr-markdown``
write through here, so a report rendered after the fact is byte for byte the one a run
writes. Each file is written atomically: a CI job that publishes it never picks up half.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from pytest_prr.catalog import Catalog

FORMATS = ("html", "csv", "markdown")


def render(kind: str, document: Mapping[str, Any], *, catalog: Catalog | None = None) -> str:
    """``document`` as ``kind`` (one of :data:`FORMATS`); a renderer is imported on use,
    so a run that writes only CSV never loads jinja2."""
    if kind == "html":
        # a renderer loads only for its format (jinja2 for HTML)
        from pytest_prr.report.html import render_html

        return render_html(document, catalog=catalog)
    if kind == "csv":
        from pytest_prr.report.csv_table import render_csv

        return render_csv(document)
    if kind == "markdown":
        from pytest_prr.report.markdown import render_markdown

        return render_markdown(document)
    raise ValueError(f"unknown report format {kind!r}; known: {', '.join(FORMATS)}")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_file`); newlines
    are written as given: CSV rows end in CRLF, as RFC 4180 asks."""
    with atomic_file(path) as file:
        file.write(text)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file that replaces ``path`` only once the block completes.

    It is written to a temporary file beside ``path`` and renamed; on an error the
    temporary file is removed and ``path`` is left as it was. The file gets the permissions
    the umask gives any new file (a report is published, unlike ``mkstemp``'s private 0600).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
