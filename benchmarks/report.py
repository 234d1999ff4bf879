"""The benchmark's results as Markdown tables: medians, and the worst run for failures."""

from __future__ import annotations

from typing import Any

from measure import median


def render_table(document: dict[str, Any]) -> str:
    settings = document["settings"]
    lines = [
        f"Latency {settings['latency_ms']:g} ms, seed {settings['seed']}, "
        f"medians of {settings['runs']} run(s); snapshot "
        f"{'paced' if settings['paced'] else 'unpaced'}"
        + (f", limits {', '.join(settings['limits'])}" if settings["limits"] else "")
        + ".",
        "",
        "| N | snapshot s | rate-limit bound s (bucket) | ratio | calls / function | "
        "throttled / retried (worst run) | max attempt (budget) | failed reads | "
        "evaluate s | pytest s, serial | pytest s, -n 2 | peak RSS MB, serial | "
        "peak RSS MB, -n 2 (largest / all) | live AWS calls, serial / -n 2 |",
        "|" + "---|" * 14,
    ]
    for size in document["sizes"]:
        lines.append(_row(size))
    lines += ["", "API calls per function, by operation (first run):", ""]
    lines += _operations(document["sizes"])
    return "\n".join(lines)


def _row(size: dict[str, Any]) -> str:
    functions = size["functions"]
    snapshots = size["snapshot_runs"]
    wall = median(run["wall_s"] for run in snapshots)
    bound = median(run["lower_bound_s"] for run in snapshots)
    calls = median(sum(run["calls"].values()) for run in snapshots) / functions
    worst = max(snapshots, key=lambda run: (len(run["failed_reads"]), run["throttled"]))
    serial, parallel = size["pytest_runs"]["serial"], size["pytest_runs"]["n2"]
    live = size["live_pytest"]
    cells = [
        f"{functions:,}",
        f"{wall:.1f}",
        f"{bound:.1f} ({snapshots[0]['bottleneck']})",
        f"{wall / bound:.2f}" if bound else "-",
        f"{calls:.2f}",
        f"{worst['throttled']} / {worst['retried']}",
        f"{max(run['max_attempt'] for run in snapshots)} ({snapshots[0]['attempt_budget']})",
        str(len(worst["failed_reads"])),
        f"{median(run['evaluate_s'] for run in size['evaluation_runs']):.2f}",
        f"{median(run['wall_s'] for run in serial):.1f}",
        f"{median(run['wall_s'] for run in parallel):.1f}",
        f"{median(run['peak_rss_mb'] for run in serial):.0f}",
        f"{median(run['peak_rss_mb'] for run in parallel):.0f} / "
        f"{median(run['peak_tree_rss_mb'] for run in parallel):.0f}",
        f"{live['serial']['calls']:,} / {live['n2']['calls']:,}" if live else "-",
    ]
    return "| " + " | ".join(cells) + " |"


def _operations(sizes: list[dict[str, Any]]) -> list[str]:
    operations = sorted({name for size in sizes for name in size["snapshot_runs"][0]["calls"]})
    header = "| operation | " + " | ".join(f"N = {size['functions']:,}" for size in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes)]
    for operation in operations:
        cells = [
            f"{size['snapshot_runs'][0]['calls'].get(operation, 0) / size['functions']:.3f}"
            for size in sizes
        ]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    return lines
