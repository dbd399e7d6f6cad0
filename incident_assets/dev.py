"""`make dev`: the simulator plus `dagster dev` on workspace.yaml, stopped together."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN, Simulator


def main() -> int:
    home = PROJECT_ROOT / ".dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    with Simulator(incidents=int(os.environ.get("DEMO_INCIDENTS", "2000")), seed=7, port=8765) as sim:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SOURCES__INCIDENT_API__BASE_URL": sim.base_url,
            "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        }
        print(f"simulator serving {sim.base_url}", flush=True)
        try:
            return subprocess.call(
                [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"],
                cwd=PROJECT_ROOT, env=env,
            )
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
