"""What the fake HTTP servers of the tests share (Python stdlib only).

`LoopbackServer` is the base class of a fake: a threaded HTTP/1.1 server
with keep-alive, bound to 127.0.0.1 on port 0 (or a given port), serving in
a daemon thread. It tracks open connections, so that `stop()` stops
listening *and* cuts the connections still open. Optionally it speaks TLS
(the handshake runs in the connection's thread, never in the accept loop).

`LoopbackHandler` is the base class of a fake's request handler: it reaches
its fake as `self.owner`, reads the body and sends answers.

    class _Handler(LoopbackHandler):
        server_version = "MyFake/1"

        def do_POST(self):
            target = parse_target(self.path)
            self.owner.seen.append((target.path, self.read_body()))
            self.send(200, {"ok": True})

    class MyFake(LoopbackServer):
        handler_class = _Handler
        thread_name = "my-fake"

        def __init__(self):
            self.seen = []
            super().__init__()       # serves from here on

    with MyFake() as fake:
        ... fake.url ...
"""
import http.server
import json
import socket
import ssl
import sys
import threading
import urllib.parse
from typing import NamedTuple

# A short poll interval makes stop() quick.
POLL_INTERVAL = 0.05


class Target(NamedTuple):
    """A request target (path and query) split up."""
    raw_path: str      # the path as sent, without the query
    path: str          # percent-decoded, without the query
    raw_query: str     # as sent, without "?"
    query: list        # decoded (name, value) pairs, in order


def parse_target(target):
    raw_path, _, raw_query = target.partition("?")
    return Target(raw_path, urllib.parse.unquote(raw_path), raw_query,
                  urllib.parse.parse_qsl(raw_query, keep_blank_values=True))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # 50 clients connecting at once must not overflow the listen backlog
    # (the default of 5 makes the kernel drop SYNs: 1 s retransmits).
    request_queue_size = 256

    def __init__(self, owner, address):
        self.owner = owner
        super().__init__(address, owner.handler_class)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so
        # that a slow or failing client never blocks the accept loop.
        tls_context = self.owner.tls_context
        if tls_context is not None:
            try:
                request = tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.owner._track(request)
        try:
            super().finish_request(request, client_address)
        finally:
            self.owner._untrack(request)
            if tls_context is not None:
                # The server closes only the plain socket it accepted.
                _cut(request)
                request.close()

    def handle_error(self, request, client_address):
        # Clients that go away (timeouts, cancelled transfers) are expected;
        # anything else is a bug in the fake worth seeing.
        if not isinstance(sys.exc_info()[1], self.owner.quiet_errors):
            super().handle_error(request, client_address)


def _cut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class LoopbackServer:
    """A fake HTTP server, serving `handler_class` in a background thread
    from the end of __init__ until stop(). `url` ends without a slash."""

    handler_class = None                # a LoopbackHandler subclass
    thread_name = "loopback-server"
    quiet_errors = (ConnectionError, TimeoutError, ssl.SSLError)

    def __init__(self, host="127.0.0.1", port=0, tls_context=None):
        self.host = host
        self.tls_context = tls_context
        self._open = set()
        self._open_lock = threading.Lock()
        self._server = None
        self._thread = None
        self._serve(port)
        self.port = self._server.server_address[1]
        scheme = "https" if tls_context is not None else "http"
        self.url = f"{scheme}://{host}:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def is_up(self):
        return self._server is not None

    def stop(self):
        """Stops listening (connections are refused) and cuts open ones."""
        self._stop_serving()

    def _serve(self, port):
        self._server = _Server(self, (self.host, port))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        args=(POLL_INTERVAL,), name=self.thread_name,
                                        daemon=True)
        self._thread.start()

    def _stop_serving(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._open_lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            _cut(sock)
        self._thread.join(timeout=5)
        self._server = None

    def _track(self, sock):
        with self._open_lock:
            self._open.add(sock)

    def _untrack(self, sock):
        with self._open_lock:
            self._open.discard(sock)


class LoopbackHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, silent."""
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment (the server flushes after each
    # request): written apart, Nagle and delayed ACKs add 40 ms per request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    @property
    def owner(self):
        """The LoopbackServer this handler serves for."""
        return self.server.owner

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, body=b"", headers=None, content_type="application/json"):
        """Answers `body` (bytes, str, or a dict or list sent as JSON) with
        `headers` ((name, value) pairs) after Content-Type."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        names = {name.lower() for name, _ in (headers or [])}
        if content_type and "content-type" not in names:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            self.send_header(name, value)
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)
