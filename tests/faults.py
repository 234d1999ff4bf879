"""Fault injection for collectors: make chosen AWS operations fail before they are sent.

A ``before-call`` handler that returns a response short-circuits botocore, so the client
raises exactly the ClientError AWS would, and nothing reaches the endpoint.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

FAULTS = {
    "AccessDenied": (403, "AccessDeniedException", "User is not authorized to perform this"),
    "Throttling": (429, "TooManyRequestsException", "Rate exceeded"),
    "ServerError": (500, "ServiceException", "Internal failure"),
    # How LocalStack answers an operation it does not emulate.
    "NotEmulated": (
        501,
        "InternalFailure",
        "The API for service 'lambda' is either not included in your current license plan or "
        "has not yet been emulated by LocalStack.",
    ),
    "Timeout": None,
}


def inject_fault(session: Any, service: str, operation: str, fault: str = "AccessDenied") -> None:
    """Make ``service:operation`` fail with ``fault`` for clients of ``session``.

    ``service`` is the botocore event name of the service (``lambda``, ``iam``, ``sqs``,
    ``cloudwatch``, ...); ``operation`` the API name (``GetPolicy``).
    """
    if FAULTS[fault] is None:

        def time_out(**_: Any) -> None:
            raise ReadTimeoutError(endpoint_url=f"https://{service}.fault.invalid")

        session.events.register(f"before-call.{service}.{operation}", time_out)
        return
    status, code, message = FAULTS[fault]

    def fail(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return AWSResponse("https://fault.invalid", status, {}, None), parsed

    session.events.register(f"before-call.{service}.{operation}", fail)
