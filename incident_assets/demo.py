"""`make demo`: the whole product on a fresh machine, against the bundled simulator.

Starts the simulator, materializes every asset with Dagster's own CLI into the default
DuckDB file, prints rows per table and the headline MTTx, then stops the simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys

from incident_assets.settings import DEFAULT_HTML_REPORT_PATH, PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN, Simulator
from incident_assets.summary import print_summary


def main() -> int:
    with Simulator(incidents=int(os.environ.get("DEMO_INCIDENTS", "2000")), seed=7) as sim:
        env = {
            **os.environ,
            "SOURCES__INCIDENT_API__BASE_URL": sim.base_url,
            "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        }
        print(f"simulator serving {sim.base_url}; materializing every asset...", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "dagster", "asset", "materialize",
             "-m", "incident_assets.definitions", "--select", "*"],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
            print("demo failed: `dagster asset materialize` exited with", done.returncode)
            return done.returncode
    print_summary()
    print(f"HTML report: {os.environ.get('INCIDENT_ASSETS_HTML_REPORT', DEFAULT_HTML_REPORT_PATH)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
