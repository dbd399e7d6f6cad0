"""The destination every asset loads into and reads from: DuckDB by default.

`INCIDENT_ASSETS_DESTINATION` picks any dlt destination (`duckdb`, `postgres`, ...); its
credentials come from dlt's own keys (`DESTINATION__<NAME>__CREDENTIALS`). The assets get it
as the Dagster resource `destination` (`DestinationResource`), which builds a pipeline per
run: it is cheap, and it picks up configuration changed since import.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import dagster as dg
import dlt
import duckdb
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.destination import Destination
from pydantic import Field

from incident_assets.errors import UserFacingError, redact
from incident_assets.settings import (
    DATA_DIR, DEFAULT_DUCKDB_PATH, DESTINATION_ENV, PIPELINE_NAME, RAW_SCHEMA, destination_name,
)

# parquet where the destination loads it natively (much faster and leaner than dlt's default
# insert-values files, see the README's measurements); elsewhere dlt's default: for postgres
# that is insert_values (dlt 1.31 loads parquet into postgres only with the optional ADBC
# driver, which the project does not install).
LOADER_FILE_FORMAT = {"duckdb": "parquet"}
# DuckDB's lock error names the process holding the file: `... is held in <program> (PID <n>)`
LOCK_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
DUCKDB_CREDENTIALS_KEY = "DESTINATION__DUCKDB__CREDENTIALS"
# every writer of the destination shares this pool; limit it to 1 for DuckDB (one writer)
DESTINATION_POOL = "incident_assets_destination"
DESTINATION_RESOURCE_KEY = "destination"


class DestinationConfigError(UserFacingError):
    """The destination cannot be used as configured; the message names the key, never a secret."""


class DestinationResource(dg.ConfigurableResource):
    """The dlt destination the raw tables are loaded into and the reports are built in."""

    name: str = Field(
        default="duckdb",
        description=f"dlt destination name (`duckdb`, `postgres`, ...), from {DESTINATION_ENV}; "
        "its credentials come from dlt's key DESTINATION__<NAME>__CREDENTIALS.",
    )
    duckdb_file: Optional[str] = Field(
        default=None,
        description=f"The DuckDB file (destination duckdb), from {DUCKDB_CREDENTIALS_KEY}; "
        "else dlt's `destination.duckdb.credentials`, else data/incidents.duckdb.",
    )

    def destination_name(self) -> str:
        """The configured destination's name; blank means duckdb."""
        return self.name.strip() or "duckdb"

    def duckdb_path(self) -> Path:
        """The DuckDB file the duckdb destination writes (its folder is created by `check`)."""
        if self.duckdb_file and self.duckdb_file.strip():
            return Path(self.duckdb_file.strip())
        configured = dlt.config.get("destination.duckdb.credentials", str)
        return Path(configured) if configured else DEFAULT_DUCKDB_PATH

    def dlt_destination(self, connection: Optional[duckdb.DuckDBPyConnection] = None) -> Any:
        """The dlt destination object, configured for the project's loads (DuckDB: through
        `connection` when given, see `loading_pipeline`)."""
        name = self.destination_name()
        # catalogs are replaced through a staging dataset, in one transaction: a failed
        # load leaves the previous catalog in place
        if name == "duckdb":
            return dlt.destinations.duckdb(
                credentials=connection or str(self.duckdb_path()),
                replace_strategy="insert-from-staging",
                # DuckDB parallelizes each statement itself; concurrent jobs only add memory
                # (measured in the README); small loads lose the overlap of per-job latency
                max_parallel_load_jobs=1,
            )
        return Destination.from_reference(name, replace_strategy="insert-from-staging")

    def working_dir(self) -> Optional[str]:
        """dlt's local working dir (state, schemas, load packages) for this destination.

        `DLT_DATA_DIR` set: dlt's own layout under it. Else one dir per destination, beside the
        data (`data/.incidents.dlt/` for `data/incidents.duckdb`): a dir shared by several
        destinations makes dlt warn that the destination in its state differs, and it holds
        nothing that the destination does not (dlt restores state and schema from there).
        """
        if os.environ.get("DLT_DATA_DIR", "").strip():
            return None
        name = self.destination_name()
        if name == "duckdb":
            path = self.duckdb_path()
            return str(path.parent / f".{path.stem}.dlt")
        return str(DATA_DIR / ".dlt" / name)

    def pipeline(self, pipelines_dir: Optional[str] = None,
                 connection: Optional[duckdb.DuckDBPyConnection] = None) -> dlt.Pipeline:
        """The project's pipeline into this destination, working in `working_dir()`."""
        return dlt.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination=self.dlt_destination(connection),
            dataset_name=RAW_SCHEMA,
            pipelines_dir=pipelines_dir or self.working_dir(),
        )

    @contextmanager
    def loading_pipeline(self) -> Iterator[dlt.Pipeline]:
        """The pipeline of one load, after `check`. DuckDB: one connection held open for the
        whole load, so that dlt's load jobs take cursors of it; else each job opens the file
        and closes (checkpoints) it again, most of a small load's time."""
        self.check()
        with dlt_defaults(LOAD_DLT_SETTINGS):
            if self.destination_name() != "duckdb":
                yield self.pipeline()
                return
            connection = duckdb.connect(str(self.duckdb_path()), config=dict(LOAD_DUCKDB_SETTINGS))
            try:
                yield self.pipeline(connection=connection)
            finally:
                connection.close()

    def sql_client(self) -> Any:
        """A SQL client of the destination (a context manager: one connection)."""
        return self.pipeline().sql_client()

    def check(self, pipeline: Optional[dlt.Pipeline] = None) -> None:
        """The pre-flight check (`check_destination`) before a run does any work."""
        check_destination(pipeline or self.pipeline(), self.duckdb_path())

    def loader_file_format(self) -> Optional[str]:
        """The file format dlt should load with, or None for dlt's default."""
        return LOADER_FILE_FORMAT.get(self.destination_name())


def destination_resource() -> DestinationResource:
    """The resource the definitions register: each setting read from its environment
    variable (shown as such in the UI's resources view) when that is set."""
    settings = {"name": DESTINATION_ENV, "duckdb_file": DUCKDB_CREDENTIALS_KEY}
    return DestinationResource(**{
        field: dg.EnvVar(variable) for field, variable in settings.items() if os.environ.get(variable, "").strip()
    })


def current_destination() -> DestinationResource:
    """The destination as configured now, for code outside a Dagster run (the CLI, tests)."""
    return DestinationResource(name=destination_name())


def definition_pipeline() -> dlt.Pipeline:
    """The pipeline dagster-dlt reads names from when definitions load. In dlt's default
    working dir, so that loading definitions creates nothing in the project; runs use
    the `destination` resource's pipeline."""
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME, destination=current_destination().dlt_destination(), dataset_name=RAW_SCHEMA
    )


def credentials_key(name: str) -> str:
    """dlt's environment key for a destination's credentials (named in error messages)."""
    return f"DESTINATION__{name.upper()}__CREDENTIALS"


def schema_columns(sql_client: Any, schema: str, table: Optional[str] = None) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, type)] in column order, for the tables and views of `schema` (or just
    `table`), from `information_schema` (which both DuckDB and PostgreSQL have): the one place
    the project reads it. `sql_client` is anything with dlt's `execute_sql`."""
    where = f"table_schema = {_quoted(schema)}"
    if table is not None:
        where += f" and table_name = {_quoted(table)}"
    rows = sql_client.execute_sql(
        f"select table_name, column_name, data_type from information_schema.columns where {where} "
        "order by table_name, ordinal_position"
    )
    columns: dict[str, list[tuple[str, str]]] = {}
    for name, column, kind in rows or []:
        columns.setdefault(name, []).append((column, str(kind).lower()))
    return columns


# DuckDB settings while the reports are built. Its buffer pool would otherwise keep the file's
# blocks cached up to 80 % of the machine's memory: over 1M incidents that put the process at
# about 1.45 GB; with this limit, near 1.1 GB (README, "What made it fast").
REPORT_DUCKDB_SETTINGS = {"memory_limit": "1GB"}
# ... and on the connection held for a load: 512 MB, and rows inserted without keeping their
# order (dlt reads them back by key). The limit caps the buffer pool, which otherwise caches
# what the load writes (3.5 GB at 100,000 incidents with DuckDB's default). Measured at 100,000
# messy incidents: a first load peaks at about 0.95 GB with 512 MB against 1.38 GB with 1 GB,
# in the same time, and a `full_refresh` merge of all 100,000 over them completes at 0.98 GB
# (merges spill to disk past the limit). README, "Peak memory".
LOAD_DUCKDB_SETTINGS = {"memory_limit": "512MB", "preserve_insertion_order": False}
# dlt settings for a load, as defaults (an environment variable of the same key wins): dlt's
# writers buffer 5,000 items per table before writing them out; 1,000 took about 190 MB off the
# peak at 50,000 incidents and no time we could measure (README, "Peak memory").
LOAD_DLT_SETTINGS = {"DATA_WRITER__BUFFER_MAX_ITEMS": "1000"}


@contextmanager
def dlt_defaults(settings: dict[str, str]) -> Iterator[None]:
    """`settings` as environment variables (dlt's own configuration keys) for the duration,
    each only where the environment does not set it already."""
    added = [name for name in settings if name not in os.environ]
    for name in added:
        os.environ[name] = settings[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def report_settings(sql_client: Any) -> Iterator[None]:
    """`REPORT_DUCKDB_SETTINGS` on a DuckDB client for the duration, then DuckDB's defaults back
    (its settings hold for the whole database while it is open, not for one connection; the
    project sets them nowhere else). Other engines are left as they are."""
    if not isinstance(getattr(sql_client, "native_connection", None), duckdb.DuckDBPyConnection):
        yield
        return
    for name, value in REPORT_DUCKDB_SETTINGS.items():
        sql_client.execute_sql(f"set {name} = {_quoted(value)}")
    try:
        yield
    finally:
        for name in REPORT_DUCKDB_SETTINGS:
            sql_client.execute_sql(f"reset {name}")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_destination(pipeline: dlt.Pipeline, duckdb_file: Path) -> None:
    """Opens one connection to the pipeline's destination, before any work is done.

    Turns missing credentials, a refused login or an unreachable server into one
    `DestinationConfigError` naming `DESTINATION__<NAME>__CREDENTIALS` (and the host).
    A DuckDB file gets its folder, and fails with one sentence when another process holds it.
    """
    destination = pipeline.destination
    if destination is None:
        return
    if destination.destination_type.endswith(".duckdb"):
        check_duckdb_file(duckdb_file)
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
        password = getattr(credentials, "password", None)
        reason = " ".join(redact(str(e), [password] if password else []).split()) or type(e).__name__
        raise DestinationConfigError(
            f"cannot connect to the {name} destination{where}: {reason} (check {key})"
        ) from None


def check_duckdb_file(path: Path) -> None:
    """Opens the DuckDB file once: a lock held by another process (a `make dev` run, a
    notebook) becomes one `DestinationConfigError` naming the file and that process. A file
    that does not exist yet is nobody's: its folder is made (DuckDB creates the file, not
    the folders), whatever else is configured (e.g. `DLT_DATA_DIR` elsewhere)."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DestinationConfigError(
                f"cannot create the folder of the DuckDB file {path}: {e.strerror} (check {DUCKDB_CREDENTIALS_KEY})"
            ) from None
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
