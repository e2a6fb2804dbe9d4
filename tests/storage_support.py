"""A real S3-compatible server on loopback (moto's standalone server, as s3fs's own tests use)
and a TCP proxy in front of it that can cut an upload mid-stream.

The server runs as a child process on 127.0.0.1 on a free port; its request log (one line per
request, werkzeug's) is kept in a file so a test can count the PUTs that reached it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class S3Server:
    """One moto server process: its endpoint, its request log, and (with auth) a valid key."""

    endpoint: str
    log: Path
    process: subprocess.Popen[bytes]
    key: dict[str, str] = field(default_factory=dict)

    def client(self, **creds: str) -> Any:
        import boto3

        creds = creds or self.key or {"aws_access_key_id": "x", "aws_secret_access_key": "y"}
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **creds)

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request the server answered so far."""
        text = re.sub(r"\x1b\[[0-9;]*m", "", self.log.read_text(errors="replace"))
        return re.findall(r'"([A-Z]+) (\S+) HTTP/1\.[01]"', text)

    def puts(self, part: str) -> int:
        """PUT requests (object PUTs, multipart parts, copies) whose path contains ``part``."""
        return sum(1 for method, path in self.requests() if method == "PUT" and part in path)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        got = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in got.get("Contents", []))

    def body(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_s3(folder: Path, *, auth: bool = False) -> S3Server:
    """Start ``python -m moto.server`` on 127.0.0.1; with ``auth``, requests need a key that
    exists on the server (one is made first and kept as ``server.key``), others get 403."""
    port = free_port()
    log = folder / f"moto-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"  # the three IAM calls below, then auth
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = S3Server(f"http://127.0.0.1:{port}", log, process)
    deadline = time.monotonic() + 60
    while True:  # a bare connect: no request that moto would count
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto server: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)
    if auth:
        server.key = _make_key(server.endpoint)
    return server


def _make_key(endpoint: str) -> dict[str, str]:
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName="team")
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [allow]})
    iam.put_user_policy(UserName="team", PolicyName="s3", PolicyDocument=policy)
    key = iam.create_access_key(UserName="team")["AccessKey"]
    return {
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }


class CutProxy:
    """A loopback TCP proxy in front of ``port`` that can cut the line mid-stream.

    ``arm(budget)``: once ``budget`` bytes went upstream (client → server, across
    connections), every open connection is reset and new ones are refused (accepted and
    closed at once) until ``restore()``: a network that drops in the middle of an upload.
    """

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.budget: int | None = None
        self.sent = 0
        self.down = False
        self.cuts = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, budget: int) -> None:
        with self._lock:
            self.budget, self.sent, self.down = budget, 0, False

    def restore(self) -> None:
        with self._lock:
            self.budget, self.down = None, False

    def close(self) -> None:
        self.listener.close()
        self._cut_all()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                _reset(conn)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                _reset(conn)
                continue
            with self._lock:
                self._open += [conn, upstream]
            threading.Thread(target=self._pump, args=(conn, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            if upstream and self._spend(len(data)):
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def _spend(self, n: int) -> bool:
        """Count ``n`` upstream bytes; past the budget, cut every connection (True)."""
        with self._lock:
            if self.budget is None:
                return False
            self.sent += n
            if self.sent <= self.budget:
                return False
            self.down, self.budget = True, None
            self.cuts += 1
        self._cut_all()
        return True

    def _cut_all(self) -> None:
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            _reset(conn)


def _reset(conn: socket.socket) -> None:
    """Close with a TCP reset, as a dropped network looks to the other side."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        conn.close()
