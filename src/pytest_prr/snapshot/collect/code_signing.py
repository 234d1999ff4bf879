"""Which code signing config each Lambda function of a region has, read in bulk.

``GetFunctionCodeSigningConfig`` answers for one function, and each call spends one of the 15
requests per second that Lambda's control plane shares per account and Region: 67 seconds
per 1,000 functions. ``ListCodeSigningConfigs`` and, for each config,
``ListFunctionsByCodeSigningConfig`` answer for the whole region in a few calls: a function a
config lists has that config, a function no config lists has none.

Where the listings cannot tell, the answer is never "none":

* a listing the endpoint does not implement (moto has neither), or refuses (a role granted
  ``GetFunctionCodeSigningConfig`` but not the listings): each function no listed config
  names is read on its own with ``GetFunctionCodeSigningConfig``, which answers the same
  question exactly; if that fails too, its marker says why the function was read alone;
* a listing that fails otherwise (throttled past botocore's retries, a server error, a
  timeout): no call per function is spent against the budget that just failed; each function
  the failed listing could hold carries its marker, so SEC-04 and DEP-03 are ERROR naming it.

One config whose function listing failed could hold any function that no other config lists,
so all of those are unknown, not unsigned. How the functions' configs were read is kept in the
region's Lambda section (``code_signing_read``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_prr.snapshot.collect.reader import Reader
from pytest_prr.snapshot.model import ERROR_KEY, UNIMPLEMENTED, error_marker, is_error

FUNCTIONS_BY_CONFIG = "lambda:ListFunctionsByCodeSigningConfig"
#: Error codes of a listing the caller is not allowed: the per-function read may be.
REFUSED = frozenset({"AccessDeniedException", "AccessDenied"})
#: ``code_signing_read["path"]``: every function placed by the listings; the functions they
#: did not place read one by one; or those functions left with the listing's error marker.
BULK, EACH_FUNCTION, UNREAD = "bulk", "per-function", "unread"


@dataclass(frozen=True)
class CodeSigning:
    """What the region's listings say of its functions' code signing configs."""

    #: Config ARN by unqualified function ARN, for every function a config listed (an error
    #: marker for one that two configs listed: the configs changed while they were read).
    placed: Mapping[str, Any]
    #: How the configs of the functions no config listed are known.
    path: str
    #: Why, when the listings could not place every function (None when they could).
    reason: str | None = None
    #: What such a function has when ``path`` is :data:`UNREAD`: the listing's marker.
    unread: Mapping[str, Any] | None = None

    def config_of(self, reader: Reader, region: str, function_arn: str, name: str) -> Any:
        """The function's config ARN, None when it has none, or an error marker."""
        if function_arn in self.placed:
            return self.placed[function_arn]
        if self.path == BULK:
            return None
        if self.path == UNREAD:
            return self.unread
        found = reader.call("lambda", region, "get_function_code_signing_config", FunctionName=name)
        if is_error(found):
            return _annotated(found, f"read for this function alone: {self.reason}")
        return found.get("CodeSigningConfigArn") or None

    def provenance(self) -> dict[str, Any]:
        """``code_signing_read``: how the configs of the functions no config listed are
        known, and why not from the listings."""
        return {"path": self.path, "reason": self.reason}


def read_code_signing(reader: Reader, region: str, configs: Any) -> CodeSigning:
    """Place the region's functions with their configs, from ``configs`` (what
    ``ListCodeSigningConfigs`` returned, or its marker) and each config's function listing."""
    if is_error(configs):
        return _unplaced({}, [configs])
    arns = [config["CodeSigningConfigArn"] for config in configs]
    listings = reader.map(
        lambda arn: reader.pages(
            "lambda",
            region,
            "list_functions_by_code_signing_config",
            "FunctionArns",
            CodeSigningConfigArn=arn,
        ),
        arns,
    )
    placed: dict[str, Any] = {}
    failures = []
    for config_arn, listing in zip(arns, listings, strict=True):
        if is_error(listing):
            failures.append(_annotated(listing, f"the functions of {config_arn} are unknown"))
            continue
        for listed in listing:
            function_arn = ":".join(listed.split(":")[:7])
            other = placed.setdefault(function_arn, config_arn)
            if other != config_arn and not is_error(other):
                placed[function_arn] = _listed_twice(function_arn, other, config_arn)
    if not failures:
        return CodeSigning(placed, BULK)
    return _unplaced(placed, failures)


def _unplaced(placed: dict[str, Any], failures: list[dict[str, Any]]) -> CodeSigning:
    """Where ``failures`` leave the functions no config listed: read one by one when every
    failure is a listing the endpoint lacks or refuses, else unread (the first failure that
    is neither stands for them)."""
    lasting = [failure for failure in failures if not _answered_per_function(failure)]
    if lasting:
        return CodeSigning(placed, UNREAD, _why(lasting[0]), lasting[0])
    return CodeSigning(placed, EACH_FUNCTION, "; ".join(_why(failure) for failure in failures))


def _answered_per_function(failure: Mapping[str, Any]) -> bool:
    """Whether the per-function read can stand in for a failed listing: the endpoint does
    not implement the listing, or the caller may not list (and may still read one)."""
    error = failure[ERROR_KEY]
    return error.get("kind") == UNIMPLEMENTED or error["code"] in REFUSED


def _why(failure: Mapping[str, Any]) -> str:
    error = failure[ERROR_KEY]
    if error.get("kind") == UNIMPLEMENTED:
        return f"the endpoint does not implement {error['operation']} ({error['code']})"
    if error["code"] in REFUSED:
        return f"{error['operation']} was refused ({error['code']})"
    return f"{error['operation']} failed ({error['code']})"


def _annotated(marker: Mapping[str, Any], note: str) -> dict[str, Any]:
    """``marker`` with ``note`` before its message, so an ERROR says what it leaves unknown."""
    error = marker[ERROR_KEY]
    return error_marker(
        error["operation"], error["code"], f"{note}: {error['message']}", kind=error.get("kind")
    )


def _listed_twice(function_arn: str, first: str, second: str) -> dict[str, Any]:
    """A function can have one config; two listing it means they changed while read."""
    return error_marker(
        FUNCTIONS_BY_CONFIG,
        "InconsistentListing",
        f"{function_arn} is listed by both {first} and {second}: the configs changed while "
        "they were read; take the snapshot again",
    )
