"""The dlt pipeline every asset loads into and reads from: DuckDB by default.

`INCIDENT_ASSETS_DESTINATION` picks any dlt destination (`duckdb`, `postgres`, ...); its
credentials come from dlt's own keys (`DESTINATION__<NAME>__CREDENTIALS`). Build a pipeline
per run: it is cheap, and it picks up configuration changed since import.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Optional

import dlt
import duckdb
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.destination import Destination

from incident_assets.incident_api.http import IncidentApiError
from incident_assets.settings import DATA_DIR, DEFAULT_DUCKDB_PATH, PIPELINE_NAME, RAW_SCHEMA, destination_name

# dlt's default insert-values files cost 3x the time and 19x the memory of parquet on
# incident data (measured); use parquet where the destination loads it natively. Elsewhere
# dlt's default: for postgres that is insert_values (dlt 1.31 loads parquet into postgres
# only with the optional ADBC driver, which the project does not install).
LOADER_FILE_FORMAT = {"duckdb": "parquet"}
USERINFO = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
# DuckDB's lock error names the process holding the file: `... is held in <program> (PID <n>)`
LOCK_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
DUCKDB_CREDENTIALS_KEY = "DESTINATION__DUCKDB__CREDENTIALS"


def duckdb_path() -> Path:
    configured = dlt.config.get("destination.duckdb.credentials", str)
    return Path(configured) if configured else DEFAULT_DUCKDB_PATH


def make_destination(name: Optional[str] = None) -> Any:
    name = name or destination_name()
    # catalogs are replaced through a staging dataset, in one transaction: a failed
    # load leaves the previous catalog in place
    if name == "duckdb":
        path = duckdb_path()  # its folder is created by check_destination, at run time
        return dlt.destinations.duckdb(
            credentials=str(path),
            replace_strategy="insert-from-staging",
            # DuckDB parallelizes each statement itself; concurrent jobs only add memory
            # (100,000 incidents with their alerts: peak sampled at 903 MB with 2 jobs, 589 MB
            # with 1, load step as long). It costs small loads about 2 s (per-job latency no
            # longer overlaps).
            max_parallel_load_jobs=1,
        )
    return Destination.from_reference(name, replace_strategy="insert-from-staging")


def working_dir() -> Optional[str]:
    """dlt's local working dir (state, schemas, load packages) for the configured destination.

    `DLT_DATA_DIR` set: dlt's own layout under it. Else one dir per destination, beside the
    data (`data/.incidents.dlt/` for `data/incidents.duckdb`): a dir shared by several
    destinations makes dlt warn that the destination in its state differs, and it holds
    nothing that the destination does not (dlt restores state and schema from there).
    """
    if os.environ.get("DLT_DATA_DIR", "").strip():
        return None
    name = destination_name()
    if name == "duckdb":
        path = duckdb_path()
        return str(path.parent / f".{path.stem}.dlt")
    return str(DATA_DIR / ".dlt" / name)


def make_pipeline(pipelines_dir: Optional[str] = None) -> dlt.Pipeline:
    """The project's pipeline for the configured destination, working in `working_dir()`."""
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=make_destination(),
        dataset_name=RAW_SCHEMA,
        pipelines_dir=pipelines_dir or working_dir(),
    )


def definition_pipeline() -> dlt.Pipeline:
    """The pipeline dagster-dlt reads names from when definitions load. In dlt's default
    working dir, so that loading definitions creates nothing in the project; runs use
    `make_pipeline()`."""
    return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=make_destination(), dataset_name=RAW_SCHEMA)


def loader_file_format() -> Optional[str]:
    return LOADER_FILE_FORMAT.get(destination_name())


class DestinationConfigError(IncidentApiError):
    """The destination cannot be used as configured; the message names the key, never a secret.

    (An IncidentApiError so that the assets' existing handler shows the message as is.)
    """


def credentials_key(name: str) -> str:
    return f"DESTINATION__{name.upper()}__CREDENTIALS"


def _scrub(text: str, secret: Optional[str]) -> str:
    text = USERINFO.sub(r"\1***@", text)
    if secret:
        text = text.replace(secret, "***")
    return " ".join(text.split())


def check_destination(pipeline: dlt.Pipeline) -> None:
    """Opens one connection to the pipeline's destination, before any work is done.

    Turns missing credentials, a refused login or an unreachable server into one
    `DestinationConfigError` naming `DESTINATION__<NAME>__CREDENTIALS` (and the host).
    A DuckDB file gets its folder, and fails with one sentence when another process holds it.
    """
    destination = pipeline.destination
    if destination is None:
        return
    if destination.destination_type.endswith(".duckdb"):
        check_duckdb_file(duckdb_path())
        return
    name = destination.destination_name
    key = credentials_key(name)
    try:
        client = pipeline.sql_client()
    except ConfigurationException:
        example = " (e.g. postgresql://user:password@host:5432/database)" if name == "postgres" else ""
        raise DestinationConfigError(
            f"the {name} destination has no usable credentials: set {key}{example}"
        ) from None
    except Exception:  # not a SQL destination (filesystem, ...): nothing to check here
        return
    credentials = getattr(client, "credentials", None)
    host, port = getattr(credentials, "host", None), getattr(credentials, "port", None)
    where = f" at {host}:{port}" if host and port else f" at {host}" if host else ""
    try:
        with client:
            client.execute_sql("select 1")
    except Exception as e:
        reason = _scrub(str(e), getattr(credentials, "password", None)) or type(e).__name__
        raise DestinationConfigError(
            f"cannot connect to the {name} destination{where}: {reason} (check {key})"
        ) from None


def check_duckdb_file(path: Path) -> None:
    """Opens the DuckDB file once: a lock held by another process (a `make dev` run, a
    notebook) becomes one `DestinationConfigError` naming the file and that process. A file
    that does not exist yet is nobody's: nothing to check, and nothing created here."""
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as e:
        held = LOCK_HOLDER.search(str(e))
        if held is None:
            raise DestinationConfigError(f"cannot open the DuckDB file {path}: {e} (check {DUCKDB_CREDENTIALS_KEY})") from None
        raise DestinationConfigError(
            f"the DuckDB file {path} is locked by process {held['pid']} ({process_description(held)}): "
            f"stop that process (a run of `make dev`?) or point {DUCKDB_CREDENTIALS_KEY} at another file"
        ) from None


def process_description(held: re.Match) -> str:
    """The holder's command line when this machine can see it, else DuckDB's program path."""
    try:
        argv = Path(f"/proc/{held['pid']}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return held["program"]
    command = " ".join(a.decode(errors="replace") for a in argv if a)
    return command if len(command) <= 120 else command[:117] + "..."
