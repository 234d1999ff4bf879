"""Evidence bundles (``--prr-evidence=DIR``) and their verification (``prr verify DIR``)."""

from pytest_prr.evidence.bundle import EvidenceError, control_evidence, write_bundle
from pytest_prr.evidence.verify import Problem, Verification, verify_bundle

__all__ = [
    "EvidenceError",
    "Problem",
    "Verification",
    "control_evidence",
    "verify_bundle",
    "write_bundle",
]
