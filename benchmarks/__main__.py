"""`python -m benchmarks [--sizes 50000,100000] [--repeat 3] [--only ingest,ratelimited,incremental,reports,reportrun,defs] [--quick]`

Every ingestion scenario serves the simulator's messy workload (a real account's records and
ratios), every endpoint. Prints the results table and the per-endpoint throughput, and writes
`benchmarks/results/<output>.json` and `.md`.
`--project-env KEY=VALUE` (repeatable) sets dlt configuration for the project's ingestion
runs only, e.g. `--project-env NORMALIZE__WORKERS=2`, to measure config-only levers.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Optional

from benchmarks import ingestion, report_run, scenarios
from benchmarks.table import RESULTS_DIR, results_text, write_results

SCENARIOS = ("ingest", "ratelimited", "incremental", "reports", "reportrun", "defs")
# ratelimited: a server allowing `rate_limit` requests per 10 s; quick scales the limit down so
# that its few requests still need pacing
QUICK = {"sizes": [300], "repeat": 1, "reports_incidents": 2_000, "layout_incidents": 300,
         "rate_limited_incidents": 300, "rate_limit": 10}
# the ratio target is judged at 50,000 incidents, the memory target at 100,000
FULL = {"sizes": [50_000, 100_000], "repeat": 3, "reports_incidents": 1_000_000,
        "layout_incidents": 2_000, "rate_limited_incidents": 30_000, "rate_limit": 50}


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", help="incident counts of the ingestion scenarios, comma-separated")
    p.add_argument("--repeat", type=int, help="repetitions per measurement (default 3, quick 1)")
    p.add_argument("--only", default=",".join(SCENARIOS), help=f"subset of {','.join(SCENARIOS)}")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition (a smoke run)")
    p.add_argument("--incremental-size", type=int, help="incidents of the incremental scenario "
                   "(default: the largest of --sizes)")
    p.add_argument("--rate-limited-incidents", type=int, help="incidents of the rate-limited scenario")
    p.add_argument("--reports-incidents", type=int, help="generated incidents of the reports scenario")
    p.add_argument("--exclude", default="",
                   help="endpoints left out of the ingestion scenarios (every variant), comma-separated, "
                        "to study one endpoint's cost; default none")
    p.add_argument("--defs-repeat", type=int, default=5)
    p.add_argument("--project-env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--output", default="latest", help="results file name (without extension)")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = p.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := set(only) - set(SCENARIOS):
        p.error(f"unknown scenarios {sorted(unknown)}; choose from {','.join(SCENARIOS)}")
    args.only = only
    args.exclude = tuple(e.strip() for e in args.exclude.split(",") if e.strip())
    defaults = QUICK if args.quick else FULL
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes else defaults["sizes"]
    args.repeat = args.repeat or defaults["repeat"]
    args.reports_incidents = args.reports_incidents or defaults["reports_incidents"]
    args.layout_incidents = defaults["layout_incidents"]
    args.rate_limited_incidents = args.rate_limited_incidents or defaults["rate_limited_incidents"]
    args.rate_limit = defaults["rate_limit"]
    args.incremental_size = args.incremental_size or max(args.sizes)
    if args.quick:
        args.defs_repeat = min(args.defs_repeat, 1)
    try:
        args.extra_env = dict(kv.split("=", 1) for kv in args.project_env)
    except ValueError:
        p.error("--project-env takes KEY=VALUE")
    return args


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    root = Path(tempfile.mkdtemp(prefix="incident-assets-bench-"))
    work = scenarios.Workdir(root)
    logfile = args.results_dir / f"{args.output}.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.unlink(missing_ok=True)
    rows: list[dict[str, Any]] = []
    recorded = {k: v for k, v in vars(args).items() if k != "results_dir"}
    steps = {
        "ingest": lambda: ingestion.ingest(args.sizes, args.repeat, work, log, args.extra_env, logfile,
                                           args.exclude),
        "ratelimited": lambda: ingestion.rate_limited(args.rate_limited_incidents, args.rate_limit, work, log,
                                                      args.extra_env, logfile, args.exclude),
        "incremental": lambda: scenarios.incremental(args.incremental_size, args.repeat, work, log,
                                                     args.extra_env, logfile, args.exclude),
        "reports": lambda: scenarios.reports(args.reports_incidents, args.layout_incidents, args.repeat,
                                             work, log, logfile),
        "reportrun": lambda: report_run.run(args.repeat, work, log, logfile, args.quick),
        "defs": lambda: scenarios.definitions(args.defs_repeat, log, logfile),
    }
    failed = []
    try:
        for name in SCENARIOS:
            if name not in args.only:
                continue
            try:
                rows += steps[name]()
            except Exception:  # one broken scenario must not lose the others' results
                log(f"scenario {name} failed:\n{traceback.format_exc()}")
                failed.append(name)
            # partial results survive an interrupted run
            write_results(rows, recorded, args.output, args.results_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.failed = failed
    return rows


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    rows = run(args)
    print(results_text(rows))
    recorded = {k: v for k, v in vars(args).items() if k not in ("results_dir", "failed")}
    json_path, md_path = write_results(rows, recorded, args.output, args.results_dir)
    print(f"\nwritten: {json_path} and {md_path}")
    if args.failed:
        print(f"FAILED scenarios: {', '.join(args.failed)} (see the log above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
