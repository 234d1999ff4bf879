"""The one error a template can give: which file, which resource, what is wrong.

A template that cannot be deployed is the user's input, not pytest-prr's bug, so it is
reported as one line a developer can act on (``template.yaml: Resources.Orders: ...``) and
a usage error, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class TemplateError(ValueError):
    """A template that cannot be read, transformed or deployed; ``str()`` says where and why.

    ``where`` is the part of the template at fault (``Resources.OrdersFunction``,
    ``Parameters.Stage``), or None for the template as a whole.
    """

    def __init__(self, path: Path | str, where: str | None, problem: str) -> None:
        self.path = Path(path)
        self.where = where
        self.problem = problem
        super().__init__(f"{self.path}: {where}: {problem}" if where else f"{path}: {problem}")


def resource_at(logical_id: str) -> str:
    """How an error names a resource of the template."""
    return f"Resources.{logical_id}"
