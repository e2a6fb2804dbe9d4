"""A real PostgreSQL server for the tests: ``initdb`` into a temporary folder, ``pg_ctl start``
on 127.0.0.1 and a free port, with password (SCRAM) authentication, and torn down after.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user (Debian's
``postgresql`` package creates it) through ``runuser``, in a folder chowned to it. Missing
binaries are an error, not a skip: ``.ci/run`` installs them.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "seedance_test"


class PostgresServer:
    """One throwaway server; :meth:`database` makes a fresh, empty database on it."""

    def __init__(self) -> None:
        self.bin = find_binaries()
        self.password = "pw-" + secrets.token_urlsafe(12)  # characters URLs keep as they are
        self.root = Path(tempfile.mkdtemp(prefix="seedance-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [*self._run_as, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{tail}")
        return done.stdout

    def start(self) -> PostgresServer:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self._run_as:
            shutil.chown(self.root, "postgres")
            shutil.chown(pwfile, "postgres")
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "-A",
            "scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        pwfile.unlink()
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            try:
                self._run(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                )
                return self
            except RuntimeError:
                if _attempt == 2:
                    raise
        return self

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{USER}:{pw}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A fresh database; its URL (password included)."""
        import psycopg

        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_binaries() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: on PATH, or Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's 'postgresql' "
        "package (bash .ci/run does)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
