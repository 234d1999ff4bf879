"""The incident runbooks and maintenance procedures the controls' remediation points to.

They ship with the package, so a remediation read by a pip user or an auditor names
something they can open: ``prr runbook NAME`` prints one, and the HTML report carries the
runbooks of its failing controls. The index (``README.md``) lists them with the controls
that link them.
"""

from __future__ import annotations

import re
from importlib import resources

#: How a remediation names a runbook: ``prr runbook dlq-growth``.
REFERENCE = re.compile(r"`prr runbook ([A-Za-z0-9-]+)`")
INDEX = "README"


def names() -> list[str]:
    """Every runbook by name (its file's stem), the index first."""
    found = sorted(
        entry.name.removesuffix(".md")
        for entry in resources.files(__package__).iterdir()
        if entry.name.endswith(".md") and entry.name != f"{INDEX}.md"
    )
    return [INDEX, *found]


def text(name: str) -> str:
    """The runbook called ``name``; KeyError naming the known ones."""
    if name not in names():
        raise KeyError(name)
    return resources.files(__package__).joinpath(f"{name}.md").read_text("utf-8")


def referenced(remediation: str) -> list[str]:
    """The runbooks a control's remediation points to, in order, each once."""
    return list(dict.fromkeys(REFERENCE.findall(remediation)))
