"""pytest-prr: Production Readiness Requirements for AWS Lambda as pytest controls.

Test modules import this package as ``import pytest_prr as prr`` and tag tests with
``@prr.control("SEC-04")``. Kept import-light: it is imported by every test module that
uses the marker, with or without ``--prr-account``.
"""

from __future__ import annotations

from pytest_prr.__about__ import __version__
from pytest_prr.plugin.markers import NotApplicable, control, not_applicable

__all__ = ["NotApplicable", "__version__", "control", "not_applicable"]
