"""A real PostgreSQL server for the tests: a throwaway cluster, and one database per test.

Used by conftest.py's `postgres_server` (session) / `postgres_url` (per test) fixtures, which
take the server at `$INCIDENT_ASSETS_TEST_POSTGRES_URL` when set (`.ci/run` starts one and
exports `postgresql://postgres:<pw>@127.0.0.1:<port>/postgres`), else `start()` one here:
`initdb` into a temp dir, a free port on 127.0.0.1, password (scram-sha-256) auth, no fsync;
`stop(directory)` stops it and deletes the directory. Under root the cluster runs as the
`postgres` OS user (PostgreSQL refuses to run as root). No skip: failures raise
`PostgresUnavailable` with the reason.

Also a CLI for scripts: `python -m incident_assets_tests.postgres start` prints the URL and
then the directory (one per line); `... stop <directory>` stops that cluster.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg2

URL_ENV = "INCIDENT_ASSETS_TEST_POSTGRES_URL"
SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started or reached; the message says why."""


class PostgresServer:
    """A server reached through a maintenance URL; creates and drops test databases."""

    def __init__(self, url: str) -> None:
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 5432
        self.user, self.password = parts.username or "", parts.password or ""

    def connect(self, database: Optional[str] = None):
        return psycopg2.connect(self.database_url(database) if database else self.url, connect_timeout=10)

    def database_url(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path="/" + quote(database)))

    def url_with(self, *, database: Optional[str] = None, password: Optional[str] = None,
                 port: Optional[int] = None) -> str:
        """This server's URL with some parts replaced (for tests of wrong credentials)."""
        user = quote(self.user, safe="")
        pw = quote(self.password if password is None else password, safe="")
        netloc = f"{user}:{pw}@{self.host}:{self.port if port is None else port}"
        parts = urlsplit(self.url)
        path = "/" + quote(database) if database else parts.path
        return urlunsplit(parts._replace(netloc=netloc, path=path))

    def execute(self, sql: str) -> None:
        con = self.connect()
        try:
            con.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
            with con.cursor() as cur:
                cur.execute(sql)
        finally:
            con.close()

    def create_database(self) -> str:
        name = f"test_{uuid.uuid4().hex}"
        self.execute(f'create database "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'drop database if exists "{name}" with (force)')

    def check(self) -> None:
        con = self.connect()
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(out.stdout.strip())
    # Debian keeps the server binaries out of PATH; prefer the newest version
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
                         reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))  # type: ignore[arg-type]
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl) found: install Debian's "
                       "`postgresql` package (what .ci/run does)")


class ThrowawayCluster:
    """`initdb` + `pg_ctl start` in a temp dir; `stop()` stops it and deletes everything."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.password = secrets.token_urlsafe(16)
        self.root = Path(tempfile.mkdtemp(prefix="incident-assets-pg-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.port = 0
        self.as_user: Optional[str] = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable("running as root, and there is no `postgres` OS user to run "
                                   "PostgreSQL as (PostgreSQL refuses to run as root)") from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = "postgres"

    @classmethod
    def at(cls, root: Path) -> "ThrowawayCluster":
        """A handle on a cluster started earlier (maybe by another process) in `root`."""
        cluster = cls.__new__(cls)
        cluster.bindir = postgres_bindir()
        cluster.password, cluster.root, cluster.port = "", root, 0
        cluster.data, cluster.log = root / "data", root / "postgres.log"
        cluster.as_user = "postgres" if os.geteuid() == 0 else None
        return cluster

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self.as_user:
            pw = pwd.getpwnam(self.as_user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def start(self) -> str:
        pwfile = self.root / "pwfile"
        self._write(pwfile, self.password + "\n")
        done = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                         "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync", "-E", "UTF8",
                         "--locale=C")
        pwfile.unlink()
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-2000:]}")
        self._write(self.root / "postgres.log", "")
        last_error = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=200")
            done = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                             "-o", options, "-w", "-t", "60", "start")
            if done.returncode == 0:
                return f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/postgres"
            last_error = (done.stdout + done.stderr).strip() + "\n" + self._log_tail()
        raise PostgresUnavailable(f"pg_ctl start failed: {last_error[-2000:]}")

    def _log_tail(self) -> str:
        try:
            return self.log.read_text()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)




@dataclass(frozen=True)
class Started:
    url: str  # maintenance URL (database `postgres`, superuser `postgres`)
    directory: str  # the cluster's temp dir, for `stop()`


def start() -> Started:
    """Starts a throwaway cluster; raises PostgresUnavailable with the reason."""
    cluster = ThrowawayCluster()
    try:
        url = cluster.start()
        PostgresServer(url).check()
    except (PostgresUnavailable, psycopg2.Error, subprocess.SubprocessError, OSError) as e:
        cluster.stop()
        raise PostgresUnavailable(f"throwaway cluster with {cluster.bindir} failed: {e}") from None
    return Started(url, str(cluster.root))


def stop(directory: str) -> None:
    """Stops the cluster `start()` made in `directory` and deletes it."""
    ThrowawayCluster.at(Path(directory)).stop()


def create_database(server_url: str) -> str:
    """Creates `test_<uuid hex>` on the server; returns its URL."""
    server = PostgresServer(server_url)
    try:
        return server.database_url(server.create_database())
    except psycopg2.Error as e:
        raise PostgresUnavailable(
            f"cannot create a test database on {server.host}:{server.port} as {server.user!r}: "
            f"{str(e).strip()}"
        ) from None


def drop_database(server_url: str, database_url: str) -> None:
    name = unquote(urlsplit(database_url).path.lstrip("/"))
    PostgresServer(server_url).drop_database(name)


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        started = start()
        print(started.url)
        print(started.directory)
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        stop(argv[1])
        return 0
    print("usage: python -m incident_assets_tests.postgres start | stop <directory>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
