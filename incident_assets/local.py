"""`make demo` and `make dev`: the product on one machine, against the bundled simulator.

demo: materializes every asset with Dagster's own CLI into the default DuckDB file, prints
rows per table and the headline MTTx. dev: serves the Dagster UI (`dagster dev`) until
interrupted. Both stop the simulator when they end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from incident_assets.settings import (
    API_TOKEN_ENV,
    AS_OF_ENV,
    BASE_URL_ENV,
    DEFAULT_HTML_REPORT_PATH,
    PROJECT_ROOT,
)
from incident_assets.simulator import DEFAULT_TOKEN, Simulator
from incident_assets.simulator.common import ANCHOR_MS, iso
from incident_assets.summary import print_summary

DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"


def simulator_env(sim: Simulator) -> dict[str, str]:
    return {
        **os.environ,
        BASE_URL_ENV: sim.base_url,
        API_TOKEN_ENV: DEFAULT_TOKEN,
        # the simulator's data ends at its anchor: report as of then, not as of today
        AS_OF_ENV: os.environ.get(AS_OF_ENV) or iso(ANCHOR_MS),
    }


def demo(sim: Simulator) -> int:
    print(f"simulator serving {sim.base_url}; materializing every asset...", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize",
         "-m", "incident_assets.definitions", "--select", "*"],
        cwd=PROJECT_ROOT, env=simulator_env(sim), capture_output=True, text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
        print("demo failed: `dagster asset materialize` exited with", done.returncode)
        return done.returncode
    print_summary()
    print(f"HTML report: {os.environ.get('INCIDENT_ASSETS_HTML_REPORT', DEFAULT_HTML_REPORT_PATH)}")
    return 0


def dev(sim: Simulator) -> int:
    DAGSTER_HOME.mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.local.yaml", DAGSTER_HOME / "dagster.yaml")
    print(f"simulator serving {sim.base_url}", flush=True)
    try:
        return subprocess.call(
            [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT, env={**simulator_env(sim), "DAGSTER_HOME": str(DAGSTER_HOME)},
        )
    except KeyboardInterrupt:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m incident_assets.local")
    parser.add_argument("command", choices=["demo", "dev"])
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8765, help="the simulator's port (0: any free one)")
    args = parser.parse_args()
    with Simulator(incidents=args.incidents, seed=7, port=args.port) as sim:
        return {"demo": demo, "dev": dev}[args.command](sim)


if __name__ == "__main__":
    raise SystemExit(main())
