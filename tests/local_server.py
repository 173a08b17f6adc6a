"""A throwaway HTTP server on 127.0.0.1 for download tests (no internet).

    with LocalServer({"/a.bin": b"..."}) as server:
        server.url("/a.bin")          # http://127.0.0.1:<port>/a.bin
        server.fail_next["/a.bin"] = ["503"]  # the next answer is a 503
        server.requests               # paths asked for, in order

Failure modes, consumed one per request: "503", "404" (HTTP errors),
"truncate" (announces the full length, sends half, closes) and "garbage"
(sends other bytes of the same length). `on_midway(path)` is called after
the first half of a body is sent and before the rest, so a test can look at
the file system while a download is under way.

Every socket has a timeout and the server thread is joined on exit, so a
broken test cannot hang the run.
"""

from __future__ import annotations

import http.server
import threading
from collections import defaultdict

TIMEOUT_S = 10.0


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = TIMEOUT_S

    def log_message(self, format, *args):
        pass  # keep test output clean

    def do_GET(self):
        server: LocalServer = self.server.owner
        path = self.path
        with server.lock:
            server.requests.append(path)
            failures = server.fail_next.get(path)
            mode = failures.pop(0) if failures else None
        body = server.files.get(path)
        if body is None or mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "503":
            self.send_error(503, "Service Unavailable")
            return
        if mode == "garbage":
            body = bytes((b + 1) % 256 for b in body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        half = len(body) // 2
        self.wfile.write(body[:half])
        self.wfile.flush()
        if mode == "truncate":
            return  # the connection closes with half the announced bytes
        if server.on_midway is not None:
            server.on_midway(path)
        self.wfile.write(body[half:])


class LocalServer:
    """Serves `files` (path -> bytes) on 127.0.0.1 in a background thread."""

    def __init__(self, files: dict[str, bytes] | None = None):
        self.files = dict(files or {})
        self.fail_next: dict[str, list[str]] = defaultdict(list)
        self.requests: list[str] = []
        self.on_midway = None
        self.lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.timeout = TIMEOUT_S
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=TIMEOUT_S)


def closed_port_url(path: str = "/") -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
