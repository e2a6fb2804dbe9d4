"""Who drives a job: one lease per job in the ledger, renewed while held, released on close.

The rule that holds across machines is the lease's expiry: a driver renews its leases every
:data:`LEASE_RENEW_SECONDS` (the heartbeat), and a lease not renewed for
:data:`~.ledger_core.LEASE_SECONDS` is free for any client, on any host, to take. Expiry is
judged on the ledger's clock (a team ledger's server clock), so hosts whose clocks disagree
still agree. On the holder's own host there is a shortcut: a holder whose process is gone (a
dead kernel) loses its lease at once instead of when it runs out. The owner id,
``host:pid-nonce``, names the host so that the shortcut is never taken for another machine.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

from .ledger_core import LedgerCore

log = logging.getLogger("seedance_nb")

LEASE_RENEW_SECONDS = 4.0
HOST_ENV = "SEEDANCE_OWNER_HOST"  # the host part of owner ids, where hostnames are not unique


def owner_host() -> str:
    """This machine's name in owner ids: ``SEEDANCE_OWNER_HOST``, else the hostname. Set it
    where two machines (containers, say) share a hostname but not their processes."""
    return os.environ.get(HOST_ENV) or socket.gethostname()


def new_owner() -> str:
    """A fresh owner id for one client: ``host:pid-nonce``."""
    return f"{owner_host()}:{os.getpid()}-{uuid.uuid4().hex[:8]}"


class Leases:
    """Take, renew and release the leases of one owner (``host:pid-nonce``)."""

    def __init__(self, ledger: LedgerCore, owner: str) -> None:
        self.ledger = ledger
        self.owner = owner

    def take(self, job_id: str) -> bool:
        """Become the job's driver if nobody else is, if the holder's lease ran out, or if
        the holder was a process on this host that is gone."""
        if self.ledger.take_lease(job_id, self.owner):
            return True
        holder = (self.ledger.get(job_id) or {}).get("owner")
        if holder and holder != self.owner and process_gone(holder):
            log.info("the process that drove %s is gone; taking over", job_id)
            self.ledger.release_leases(holder)
            return self.ledger.take_lease(job_id, self.owner)
        return False

    def renew(self, job_ids: list[str]) -> None:
        self.ledger.renew_leases(job_ids, self.owner)

    def release(self) -> None:
        self.ledger.release_leases(self.owner)


def process_gone(owner: str) -> bool:
    """Whether a lease holder (``host:pid-nonce``) was a process on this machine that no
    longer exists. Unknown formats, other hosts and live processes count as present."""
    host, _, rest = owner.rpartition(":")
    pid = rest.split("-", 1)[0]
    if host != owner_host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
