"""A WSGI app served on a real local port from a thread, for the kit's own tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

WsgiApp = Callable[..., Any]


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1, so a client reuses its connection instead of opening one per request."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # thousands of requests per test: no access log


@contextmanager
def served(app: WsgiApp) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) until the block ends; yields its origin URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
