"""The fault server's HTTP plumbing: routing (`FaultApp`), the threaded server, `FaultServer`.

See `kyra.demo.fault_server` for the endpoint list and the command line.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kyra.demo import _faults, _ramp
from kyra.demo._faults import FaultState
from kyra.demo._http import BadParameter, Reply, Request, error_reply
from kyra.demo.provider_errors import CANNED

MAX_BODY_BYTES = 10 * 1024 * 1024
Route = Callable[[FaultState, Request, list[str]], Reply]

ROUTES: dict[tuple[str, int], Route] = {
    ("ok", 0): lambda s, r, a: Reply(200, {"ok": True, "echo": _echo_value(r)}),
    ("echo", 0): lambda s, r, a: Reply(200, _echo(r)),
    ("status", 1): lambda s, r, a: _faults.status(r, a[0]),
    ("ratelimit", 1): lambda s, r, a: s.ratelimit(r, a[0]),
    ("pace", 1): lambda s, r, a: s.pace(r, a[0]),
    ("flaky", 1): lambda s, r, a: s.flaky(r, a[0]),
    ("window", 1): lambda s, r, a: s.window(r, a[0]),
    ("slow", 0): lambda s, r, a: s.slow(r, None),
    ("slow", 1): lambda s, r, a: s.slow(r, a[0]),
    ("ramp", 1): lambda s, r, a: _ramp.ramp(s, r, a[0]),
    ("dates", 0): lambda s, r, a: _faults.dates(r),
    ("drip", 0): lambda s, r, a: _faults.drip(r),
    ("big", 0): lambda s, r, a: _faults.big(r),
    ("require", 0): lambda s, r, a: _faults.require(r),
    ("auth", 0): lambda s, r, a: _faults.auth(r),
    ("versioned", 0): lambda s, r, a: _faults.versioned(r),
    ("validate", 0): lambda s, r, a: _faults.validate(r),
    ("provider", 2): lambda s, r, a: _faults.provider(r, a[0], a[1]),
}


def _echo_value(req: Request) -> Any:
    body = req.json()
    return body if body is not None else req.flat_query()


def _echo(req: Request) -> dict[str, Any]:
    return {
        "method": req.method,
        "path": req.path,
        "query": req.flat_query(),
        "headers": req.headers,
        "json": req.json(),
        "body": req.body.decode("utf-8", "replace"),
    }


class FaultApp:
    """Routing and state, without sockets: `handle(Request) -> Reply`."""

    def __init__(self, state: FaultState | None = None) -> None:
        self.state = state or FaultState()

    def handle(self, req: Request) -> Reply:
        parts = [p for p in req.path.split("/") if p]
        if not parts:
            return Reply(
                200,
                {
                    "service": "kyra fault server",
                    "endpoints": sorted({name for name, _ in ROUTES}),
                    "providers": sorted(f"{n}/{c}" for n, c in CANNED),
                },
            )
        if parts == ["_stats"]:
            return Reply(200, self.state.stats())
        if parts == ["_reset"]:
            if req.method != "POST":
                return error_reply(405, "method_not_allowed", "POST /_reset")
            self.state.reset()
            return Reply(200, {"ok": True})
        route = ROUTES.get((parts[0], len(parts) - 1))
        try:
            if route is None:
                reply = error_reply(404, "not_found", f"No fault endpoint at {req.path}")
            else:
                reply = route(self.state, req, parts[1:])
        except BadParameter as exc:
            reply = error_reply(400, "bad_fault_parameter", str(exc))
        self.state.record(req.path, reply.status)
        return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kyra-fault/1"
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: at thousands of requests a second, stderr logging is the bottleneck."""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._write(error_reply(400, "bad_body", "Unreadable or oversized request body"))
            return
        split = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        self._write(self.server.app.handle(request))

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise ValueError("body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _write(self, reply: Reply) -> None:
        if reply.chunks is not None:
            self._stream(reply)
            return
        payload = b"" if reply.status in (204, 304) else reply.payload()
        lines = [
            f"{self.protocol_version} {reply.status} {self.responses.get(reply.status, ('',))[0]}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {reply.content_type}",
            f"Content-Length: {len(payload)}",
        ]
        for name, value in reply.headers:
            if any(c in name + value for c in "\r\n"):
                continue  # never let a query parameter split the response
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        try:
            self.wfile.write(head + payload)  # one write: no Nagle/delayed-ACK stall
        except OSError:
            self.close_connection = True  # the client gave up (e.g. its read timeout)

    def _stream(self, reply: Reply) -> None:
        """Chunked transfer encoding, waiting `reply.every` before each chunk; a client
        that hangs up ends the stream (and the connection)."""
        reason = self.responses.get(reply.status, ("",))[0]
        head = (
            f"{self.protocol_version} {reply.status} {reason}\r\n"
            f"Server: {self.server_version}\r\nDate: {self.date_time_string()}\r\n"
            f"Content-Type: {reply.content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            self.wfile.write(head.encode("latin-1"))
            for chunk in reply.chunks or ():
                if reply.every > 0:
                    time.sleep(reply.every)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: FaultApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for our FQDN, which can stall without a network.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Ends idle keep-alive connections so their threads exit and close the sockets."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client hanging up mid-request is normal here
        super().handle_error(request, client_address)


class FaultServer:
    """The fault server in a background thread; `start()`/`stop()` or a `with` block."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, app: FaultApp | None = None) -> None:
        self.host = host
        self._requested_port = port
        self.app = app or FaultApp()
        """Pass `FaultApp(FaultState(monotonic=clock))` to move its time windows by hand."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FaultServer:
        if self._server is not None:
            raise RuntimeError("the fault server is already running")
        self._server = _Server((self.host, self._requested_port), self.app)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="kyra-fault-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fault server is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stats(self) -> dict[str, Any]:
        """{"total": n, "paths": {path: n}, "statuses": {"429": n}} (admin paths excluded)."""
        return self.app.state.stats()

    def reset(self) -> None:
        """Forget all per-key state and statistics."""
        self.app.state.reset()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
