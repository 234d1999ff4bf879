"""Take a snapshot of an account: every region in parallel, then the account-wide parts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pytest_prr.__about__ import __version__
from pytest_prr.accounts.config import Account
from pytest_prr.snapshot.collect.apigw import collect_apigw
from pytest_prr.snapshot.collect.cloudwatch import collect_cloudwatch
from pytest_prr.snapshot.collect.deploy import collect_deploy
from pytest_prr.snapshot.collect.ec2 import collect_ec2
from pytest_prr.snapshot.collect.events import collect_events
from pytest_prr.snapshot.collect.fidelity import AWS, Fidelity
from pytest_prr.snapshot.collect.guardrails import collect_guardrails, collect_organizations
from pytest_prr.snapshot.collect.iam import collect_iam
from pytest_prr.snapshot.collect.kms import collect_kms
from pytest_prr.snapshot.collect.lambda_ import collect_lambda
from pytest_prr.snapshot.collect.logs import collect_logs
from pytest_prr.snapshot.collect.pacing import AWS_RATES, Pacer
from pytest_prr.snapshot.collect.reader import DEFAULT_WORKERS, Reader
from pytest_prr.snapshot.collect.s3 import collect_s3
from pytest_prr.snapshot.collect.scheduler import collect_scheduler
from pytest_prr.snapshot.collect.secrets import collect_secrets
from pytest_prr.snapshot.collect.sns import collect_sns
from pytest_prr.snapshot.collect.sqs import collect_sqs
from pytest_prr.snapshot.model import SCHEMA, Snapshot, is_error

#: ``progress(region, functions_read, functions_total)``, called from collector threads.
Progress = Callable[[str, int, int], None]
RegionalCollector = Callable[[Reader, str, Mapping[str, Any]], dict[str, Any]]


def regional_collectors(
    slo_window_days: int,
) -> tuple[tuple[tuple[str, RegionalCollector], ...], ...]:
    """What a region's section holds after Lambda, in stages: the collectors of a stage
    read the sections of the stages before it (KMS needs the log groups' keys), not each
    other's, so they run side by side, each paced by its own service's quota while the
    others wait on theirs."""
    return (
        (
            ("logs", collect_logs),
            ("cloudwatch", functools.partial(collect_cloudwatch, window_days=slo_window_days)),
            ("sqs", collect_sqs),
            ("sns", collect_sns),
            ("events", collect_events),
            ("scheduler", collect_scheduler),
            ("s3", collect_s3),
            ("secrets", collect_secrets),
            ("ec2", collect_ec2),
            ("deploy", collect_deploy),
            ("apigw", collect_apigw),
            ("guardrails", collect_guardrails),
        ),
        (("kms", collect_kms),),
    )


def take_snapshot(
    session: Any,
    account: Account,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
    slo_window_days: int = 30,
    rates: Mapping[str, float] | None = None,
    fidelity: Fidelity = AWS,
) -> Snapshot:
    """Read ``account`` once, through ``session`` (which should be read-only guarded).

    ``slo_window_days`` is how far back the SLO metrics are read (the OBS-08 tunable).
    ``rates`` are the requests per second each AWS rate bucket is paced at (see
    :mod:`~pytest_prr.snapshot.collect.pacing`); by default AWS's quotas for a live account,
    and none for an emulator, which does not throttle. An empty mapping turns pacing off.
    ``fidelity`` is what is known of the target's emulator (nothing, for AWS): the fields it
    drops are marked unreadable, or taken from what pytest-prr's moto server recorded.
    """
    if rates is None:
        rates = AWS_RATES if account.mode == "live" else {}
    pacer = Pacer(rates) if rates else None
    reader = Reader(session, workers=workers, progress=progress, pacer=pacer, fidelity=fidelity)
    stages = regional_collectors(slo_window_days)
    taken_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def region_section(region: str) -> dict[str, Any]:
        section: dict[str, Any] = {"lambda": collect_lambda(reader, region)}
        for stage in stages:
            with ThreadPoolExecutor(len(stage)) as pool:
                running = {name: pool.submit(c, reader, region, section) for name, c in stage}
            section.update((name, future.result()) for name, future in running.items())
        return section

    with ThreadPoolExecutor(len(account.regions)) as pool:
        regions = dict(zip(account.regions, pool.map(region_section, account.regions), strict=True))
    role_arns = {
        function["Role"]
        for section in regions.values()
        if not is_error(section["lambda"]["functions"])
        for function in section["lambda"]["functions"].values()
    }
    data = {
        "schema": SCHEMA,
        "taken_at": taken_at,
        "tool": {"name": "pytest-prr", "version": __version__},
        "account": {
            "name": account.name,
            "account_id": account.account_id,
            "mode": account.mode,
            "regions": list(account.regions),
            "emulator": None if fidelity.emulator is None else fidelity.emulator.to_dict(),
        },
        "global": {
            "iam": collect_iam(reader, sorted(role_arns)),
            "organizations": collect_organizations(reader, account.account_id),
        },
        "regions": regions,
        "calls": dict(sorted(reader.calls.items())),
    }
    if fidelity.deployments:
        data["deployments"] = list(fidelity.deployments)
    return Snapshot(data)
