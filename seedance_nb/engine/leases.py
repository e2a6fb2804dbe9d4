"""Who drives a job: one lease per job in the ledger, renewed while held, released on close.

A holder whose process is gone (a dead kernel on this machine) loses its lease at once
instead of when it runs out.
"""

from __future__ import annotations

import logging
import os
import socket

from .ledger import Ledger

log = logging.getLogger("seedance_nb")

LEASE_RENEW_SECONDS = 4.0


class Leases:
    """Take, renew and release the leases of one owner (``host:pid-nonce``)."""

    def __init__(self, ledger: Ledger, owner: str) -> None:
        self.ledger = ledger
        self.owner = owner

    def take(self, job_id: str) -> bool:
        """Become the job's driver if nobody else is, or if its holder's process is gone."""
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
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
