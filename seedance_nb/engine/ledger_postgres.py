"""The job ledger on a PostgreSQL server, shared by a team: the same guarantees as the SQLite file.

Every job method and query is :class:`~.ledger_core.LedgerCore`'s; this module only connects,
runs transactions and locks claims. The tables live in their own schema (``seedance``) so
they never meet another application's ``jobs``.

* **Never pay twice across machines.** A claim takes a transaction-scoped advisory lock on its
  (route, request hash) before it looks for the request, so two clients claiming the same
  request at once are served one after the other: the second finds the first's row.
* **One clock.** Every timestamp this ledger writes (leases above all) is on the server's
  clock: the offset between this machine and the server is measured when it connects (and
  every minute), so machines whose clocks disagree still agree on when a lease runs out. What
  is left is half a round trip, far below the lease's 15 s.
* **The password stays sealed.** The URL is a :class:`LedgerURL`; reprs and errors show it
  masked, and nothing here logs it.

psycopg 3 is imported when a PostgreSQL ledger is opened, never by ``import seedance_nb``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigurationError
from .ledger_core import LedgerCore
from .ledger_url import LedgerURL

PG_SCHEMA = "seedance"
_TYPES = {"REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}
_MIGRATION_LOCK = 0x5EEDA2CE  # advisory lock key held while a client creates or upgrades
_CLOCK_EVERY = 60.0  # seconds between two measures of the server's clock


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigurationError(
            "a PostgreSQL ledger needs psycopg 3: pip install 'seedance-nb[postgres]'"
        ) from None
    return psycopg


class PostgresLedger(LedgerCore):
    """Thread-safe access to a team ledger on PostgreSQL; one connection per client."""

    NO_LIMIT = None  # LIMIT NULL: all rows

    def __init__(self, url: LedgerURL, *, clock: Callable[[], float] = time.time) -> None:
        """``clock``: this machine's clock (a test gives a skewed one); the ledger corrects it
        to the server's."""
        self.url = url
        self._clock = clock
        self._skew = 0.0  # server clock minus ours
        self._measured = -_CLOCK_EVERY
        self._lock = threading.RLock()
        self._depth = 0  # nested _tx() inside batch()
        self._conn: Any = None
        self._closed = False
        self._connect()

    def __repr__(self) -> str:
        return f"<PostgresLedger {self.where}>"

    @property
    def where(self) -> str:
        return self.url.masked

    # connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        psycopg = _psycopg()
        from psycopg.rows import dict_row

        try:
            conn = psycopg.connect(
                self.url.reveal(), autocommit=True, row_factory=dict_row, connect_timeout=10
            )
        except psycopg.Error as exc:
            raise ConfigurationError(
                f"could not open the ledger at {self.where}: {self.url.scrub(str(exc)).strip()}"
            ) from None
        self._conn = conn
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
                conn.execute(f"SET search_path TO {PG_SCHEMA}")
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                self._migrate(conn)
        except psycopg.Error as exc:
            conn.close()
            raise ConfigurationError(
                f"could not set up the ledger at {self.where}: {self.url.scrub(str(exc))}"
            ) from None
        self._measure_clock()

    def _ready(self) -> Any:
        """The connection, opened again if the server dropped it (a restart, a network cut):
        the operation that met the drop failed; the next one finds a fresh connection."""
        if self._closed:
            raise RuntimeError(f"the ledger at {self.where} is closed")
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._connect()
        return self._conn

    def _measure_clock(self) -> None:
        """Our clock's offset from the server's, read halfway through one round trip."""
        before = self._clock()
        row = self._conn.execute("SELECT extract(epoch FROM clock_timestamp()) AS t").fetchone()
        after = self._clock()
        self._skew = float(row["t"]) - (before + after) / 2
        self._measured = after

    def now(self) -> float:
        if self._clock() - self._measured > _CLOCK_EVERY and self._depth == 0:
            with self._lock:
                try:
                    self._ready()
                    self._measure_clock()
                except Exception:  # the operation that follows meets the failure itself
                    self._measured = self._clock()
        return self._clock() + self._skew

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()

    # the backend's part -----------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            if self._depth:  # inside batch(): the outer transaction commits
                yield self._conn
                return
            conn = self._ready()
            self._depth += 1
            try:
                with conn.transaction():
                    yield conn
            finally:
                self._depth -= 1

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """Autocommit: each statement commits alone, with no BEGIN and COMMIT round trips."""
        with self._lock:
            yield self._conn if self._depth else self._ready()

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            yield self._conn if self._depth else self._ready()

    def _execute(self, db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return db.execute(sql.replace("?", "%s"), params)

    def _lock_claim(self, db: Any, route: str, request_hash: str) -> None:
        self._execute(
            db,
            "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
            (route + "\n" + request_hash,),
        )

    def _column_names(self, db: Any) -> set[str]:
        rows = self._rows(
            db,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema=? AND table_name='jobs'",
            (PG_SCHEMA,),
        )
        return {r["column_name"] for r in rows}

    def _decl(self, kind: str) -> str:
        words = kind.split()
        return " ".join([_TYPES.get(words[0], words[0]), *words[1:]])

    def _get_version(self, db: Any) -> int:
        row = self._one(db, "SELECT max(version) AS v FROM schema_version")
        return int(row["v"]) if row and row["v"] is not None else 0

    def _set_version(self, db: Any, version: int) -> None:
        self._execute(db, "DELETE FROM schema_version")
        self._execute(db, "INSERT INTO schema_version (version) VALUES (?)", (version,))
