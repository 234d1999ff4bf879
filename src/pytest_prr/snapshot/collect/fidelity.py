"""What a snapshot must know about the emulator it reads: the fields it drops, the operations
it lacks, and what pytest-prr's own moto server recorded of the fields moto drops.

Against AWS (no emulator) or an endpoint pytest-prr does not recognise, nothing is assumed:
a field's absence means what AWS means by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytest_prr.accounts.emulators import Emulator, Profile, profile_for

#: What botocore gives as the code of an answer that names no error: the bare HTTP status.
#: AWS names every error it returns, so these come from an emulator without the route.
_BARE_UNIMPLEMENTED = frozenset({"404", "501"})
_UNIMPLEMENTED_CODES = frozenset({"NotImplemented", "NotImplementedError"})


@dataclass(frozen=True)
class Fidelity:
    """The target's emulator (None for AWS), its profile, and, for pytest-prr's embedded
    moto server, the dropped fields it recorded from Lambda's write requests, by function
    ARN (``{"request": "CreateFunction", "fields": {...}}``)."""

    emulator: Emulator | None = None
    profile: Profile | None = None
    recorded: Mapping[str, Mapping[str, Any]] | None = None
    #: The templates pytest-prr's deployer declared to its moto server (``pytest_prr.deploy``).
    deployments: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def of(
        cls,
        emulator: Emulator | None,
        recorded: Mapping[str, Mapping[str, Any]] | None = None,
        deployments: tuple[Mapping[str, Any], ...] = (),
    ) -> Fidelity:
        return cls(emulator, profile_for(emulator), recorded, deployments)

    def unimplemented(self, operation: str, status: int | None, code: str) -> bool:
        """Whether a failed call means the endpoint does not implement ``operation``: HTTP
        501, a ``NotImplemented`` code (LocalStack's ``InternalFailure`` comes with 501), a
        bare 404 (a route the emulator does not know), or an operation the profile lists
        (moto answers 500 for some)."""
        if status == 501 or code in _UNIMPLEMENTED_CODES or code in _BARE_UNIMPLEMENTED:
            return True
        return self.profile is not None and self.profile.lacks(operation)

    def describe(self) -> str:
        return "AWS" if self.emulator is None else self.emulator.describe()


#: A snapshot of AWS: nothing dropped, nothing lacked.
AWS = Fidelity()
