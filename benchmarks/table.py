"""The one results table, and `results/<name>.json` / `.md` with the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from benchmarks.throughput import endpoint_table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
COLUMNS = ("scenario", "project median s", "baseline median s", "ratio", "peak RSS project MB",
           "peak RSS baseline MB", "target", "met?")


def _num(value: Optional[float], fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def cells(row: dict[str, Any]) -> list[str]:
    ratio = row.get("ratio")
    met = row.get("met")
    return [
        row["scenario"],
        _num(row.get("project_s"), ".2f"),
        _num(row.get("baseline_s"), ".2f"),
        "—" if ratio is None else (f"{ratio:.1%}" if row["kind"] == "incremental" else f"{ratio:.2f}x"),
        _num(row.get("project_rss_mb"), ".0f"),
        _num(row.get("baseline_rss_mb"), ".0f"),
        row.get("target", ""),
        "—" if met is None else ("yes" if met else "NO"),
    ]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def results_text(rows: list[dict[str, Any]]) -> str:
    """The results table, then the ingestion runs' throughput per endpoint."""
    text = markdown_table(rows)
    if any(r.get("endpoints") and r["kind"] == "ingest" for r in rows):
        text += ("\n\nPer endpoint: records/s while its pages were served, on the server's clock "
                 "(benchmarks/throughput.py)\n\n" + endpoint_table(rows))
    return text


def machine() -> dict[str, Any]:
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "arch": subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip() or platform.machine(),
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_results(rows: list[dict[str, Any]], args: dict[str, Any], name: str = "latest",
                  directory: Path = RESULTS_DIR) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    info = machine()
    json_path, md_path = directory / f"{name}.json", directory / f"{name}.md"
    json_path.write_text(json.dumps({"machine": info, "args": args, "rows": rows}, indent=2, default=str))
    md_path.write_text(
        "# incident_assets benchmark\n\n" + results_text(rows) + "\n\n"
        f"Machine: {info['arch']}, {info['nproc']} CPUs, {info['memory_gb']} GB memory, "
        f"Python {info['python']}, {info['date']}.\n\nArguments: `{json.dumps(args)}`\n"
    )
    return json_path, md_path
