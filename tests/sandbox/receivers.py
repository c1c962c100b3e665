"""A webhook receiver on 127.0.0.1 for tests: real HTTP, scripted answers, and the
signatures of what it received checked as a client's server would check them."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One POST as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    signature_v2_ok: bool
    at: float


class _Server(ThreadingHTTPServer):
    # A server's usual listen backlog (socketserver's default of 5 drops the SYNs of a
    # burst of deliveries, which then wait seconds for the kernel to send them again).
    request_queue_size = 128


class Receiver:
    """A real HTTP server on 127.0.0.1 answering each POST with the next scripted status
    and the body `answer`."""

    def __init__(
        self, statuses: Sequence[int] = (200,), delay: float = 0.0, answer: bytes = b""
    ) -> None:
        self.statuses, self.delay, self.secret = list(statuses), delay, ""
        self.answer = answer
        self.received: list[Received] = []
        self.release = threading.Event()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.handle_error = lambda request, address: None  # a client that gave up: fine
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def _verify(self, headers: Any, raw: bytes) -> tuple[bool, bool]:
        key = self.secret.encode()
        # the seed's snippet: createHmac('sha256', secret).update(req.rawBody).digest('hex')
        expected = hmac.new(key, raw, hashlib.sha256).hexdigest()
        parts = dict(
            part.split("=", 1)
            for part in headers.get("X-Signature-V2", "").split(",")
            if "=" in part
        )
        signed = parts.get("t", "").encode() + b"." + raw
        v2_ok = hmac.compare_digest(
            hmac.new(key, signed, hashlib.sha256).hexdigest(), parts.get("v1", "")
        )
        fresh = parts.get("t", "").isdigit() and abs(time.time() - int(parts["t"])) < 300
        return headers.get("X-Signature") == expected, v2_ok and fresh

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ok, v2_ok = receiver._verify(self.headers, raw)
                receiver.received.append(
                    Received(dict(self.headers), raw, ok, v2_ok, time.perf_counter())
                )
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index] if ok else 401)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
