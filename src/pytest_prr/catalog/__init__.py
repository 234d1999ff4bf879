"""Control and framework reference data, and the loader that validates it."""

from pytest_prr.catalog.loader import (
    FRAMEWORK_KEYS,
    Catalog,
    CatalogError,
    Control,
    Framework,
    Requirement,
    Tunable,
    builtin_catalog,
    load_catalog,
)

__all__ = [
    "FRAMEWORK_KEYS",
    "Catalog",
    "CatalogError",
    "Control",
    "Framework",
    "Requirement",
    "Tunable",
    "builtin_catalog",
    "load_catalog",
]
