"""The fake business application every test talks to (Python stdlib only).

A threaded HTTP/1.1 server with keep-alive, bound to 127.0.0.1 on port 0,
whose behaviour is chosen by the path:

| path                 | answer                                                        |
|----------------------|---------------------------------------------------------------|
| /echo/...            | 200, JSON describing the request as received                  |
| /status/<code>       | that status, JSON body {"status": code}                       |
| /delay/<ms>          | waits, then 200 {"delayed_ms": ms}                            |
| /invalid-json        | 200 with Content-Type application/json and a non-JSON body    |
| /big/<bytes>         | a JSON body of exactly that size (?chunked=1: chunked)        |
| /json/<name>         | the canned answer in `routes['/json/<name>']`, else 404       |
| /oauth/token         | OAuth2 client-credentials token endpoint                      |
| /protected/...       | echo with a valid issued Bearer token, else 401               |
| /flaky/<n>/...       | 503 the first n times for that exact path, then echo          |
| /_control/stats      | counters (connections, requests, tokens issued)               |
| /_control/requests   | every recorded request, described as /echo does               |
| /_control/config     | POST JSON {"token_expires_in": s} sets the token lifetime     |
| /_control/revoke     | POST: every issued token becomes invalid                      |

In a test:

    with FakeUpstream() as fake:
        ... fake.url + "/echo/x" ...
        fake.requests[-1].headers_dict["x-request-id"]

As a script (for tests in other languages):

    python3 fake_upstream.py --port 0 [--tls] [--require-client-cert] [--exit-on-eof]

prints, with TLS, `cert_file PATH`, `ca_file PATH`, `client_cert_file PATH`
and `client_key_file PATH` lines, then `listening N` once it accepts
connections. It runs until SIGTERM/SIGINT, or until standard input closes
with --exit-on-eof (so that it dies with the test that started it).

TLS: a throwaway test CA (a self-signed certificate) is generated with the
`openssl` command into a temporary directory; it issues the server
certificate (for localhost and 127.0.0.1) and a client certificate.
`ca_file` is what a client must trust; with `require_client_cert` the
server accepts only clients presenting a certificate issued by that CA.
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from loopback_server import LoopbackHandler, LoopbackServer, parse_target

DEFAULT_CLIENT_ID = "relais"
DEFAULT_CLIENT_SECRET = "s3cret"


@dataclass
class RecordedRequest:
    """One request as the fake upstream received it."""
    method: str
    raw_path: str          # path and query exactly as sent on the request line
    path: str              # percent-decoded path, without the query
    raw_query: str         # query string as sent, without "?"
    query: list            # decoded (name, value) pairs, in order
    headers: list          # (name, value) pairs as received
    body: bytes
    connection_id: int
    headers_dict: dict = field(default_factory=dict)  # lower-case name -> value

    def header(self, name):
        return self.headers_dict.get(name.lower())


class _Tls:
    """A test CA with a server and a client certificate, in a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fake-upstream-tls-")
        self.ca_file = self._path("ca.crt")
        self.ca_key = self._path("ca.key")
        self.cert_file = self._path("server.crt")
        self.key_file = self._path("server.key")
        self.client_cert_file = self._path("client.crt")
        self.client_key_file = self._path("client.key")
        try:
            self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                          "-subj", "/CN=relais test CA", "-keyout", self.ca_key,
                          "-out", self.ca_file,
                          "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign")
            self._issue("server", self.cert_file, self.key_file,
                        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                        "extendedKeyUsage=serverAuth\n")
            self._issue("client", self.client_cert_file, self.client_key_file,
                        "extendedKeyUsage=clientAuth\n")
        except BaseException:
            self.cleanup()
            raise

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _openssl(self, *args):
        subprocess.run(["openssl", *args], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _issue(self, name, cert, key, extensions):
        csr = self._path(name + ".csr")
        ext = self._path(name + ".ext")
        with open(ext, "w", encoding="ascii") as f:
            f.write(extensions)
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                      "/CN=relais test " + name, "-keyout", key, "-out", csr)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey",
                      self.ca_key, "-CAcreateserial", "-days", "2", "-out", cert,
                      "-extfile", ext)

    def server_context(self, require_client_cert):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca_file)
        return context

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class _Handler(LoopbackHandler):
    server_version = "FakeUpstream/1"

    def setup(self):
        super().setup()
        self.connection_id = self.owner._new_connection()

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # -- plumbing ---------------------------------------------------------

    def _dispatch(self):
        fake = self.owner
        target = parse_target(self.path)
        record = RecordedRequest(
            method=self.command,
            raw_path=self.path,
            path=target.path,
            raw_query=target.raw_query,
            query=target.query,
            headers=list(self.headers.items()),
            body=self.read_body(),
            connection_id=self.connection_id,
        )
        for name, value in record.headers:
            key = name.lower()
            previous = record.headers_dict.get(key)
            record.headers_dict[key] = value if previous is None else previous + ", " + value
        if not target.raw_path.startswith("/_control/"):
            fake._record(record)
        try:
            self._route(record)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_chunked(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for start in range(0, len(body), 16384):
            chunk = body[start:start + 16384]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    # -- behaviours -------------------------------------------------------

    def _route(self, record):
        fake = self.owner
        parts = record.path.split("/")
        head = parts[1] if len(parts) > 1 else ""
        if head == "echo":
            return self.send(200, self._describe(record))
        if head == "status" and len(parts) > 2 and parts[2].isdigit():
            code = int(parts[2])
            if not 200 <= code <= 599:
                return self.send(400, {"error": "status must be 200-599"})
            return self.send(code, {"status": code})
        if head == "delay" and len(parts) > 2 and parts[2].isdigit():
            time.sleep(int(parts[2]) / 1000)
            return self.send(200, {"delayed_ms": int(parts[2])})
        if record.path == "/invalid-json":
            return self.send(200, "this is not JSON {")
        if head == "big" and len(parts) > 2 and parts[2].isdigit():
            body = _json_of_size(int(parts[2]))
            if ("chunked", "1") in record.query:
                return self._send_chunked(200, body)
            return self.send(200, body)
        if head == "json":
            route = fake.routes.get(record.path)
            if route is None:
                return self.send(404, {"error": "no canned document"})
            status, headers, body = route
            return self.send(status, body, headers=list((headers or {}).items()))
        if record.path == "/oauth/token":
            return self._token(record)
        if head == "protected":
            return self._protected(record)
        if head == "flaky" and len(parts) > 2 and parts[2].isdigit():
            if fake._count_attempt(record.path) <= int(parts[2]):
                return self.send(503, {"error": "try again"}, headers=[("Retry-After", "0")])
            return self.send(200, self._describe(record))
        if head == "_control":
            return self._control(record)
        return self.send(404, {"error": "unknown fake upstream path"})

    def _describe(self, record):
        text = record.body.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return {
            "method": record.method,
            "path": record.raw_path.partition("?")[0],
            "decoded_path": record.path,
            "raw_query": record.raw_query,
            "query": [[name, value] for name, value in record.query],
            "headers": record.headers_dict,
            "body": text,
            "json": parsed,
            "connection_id": record.connection_id,
        }

    def _token(self, record):
        fake = self.owner
        if record.method != "POST":
            return self.send(405, {"error": "invalid_request"})
        form = dict(urllib.parse.parse_qsl(record.body.decode("ascii", errors="replace")))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        authorization = record.header("authorization") or ""
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            user, _, password = decoded.partition(":")
            client_id = urllib.parse.unquote_plus(user)
            secret = urllib.parse.unquote_plus(password)
        if form.get("grant_type") != "client_credentials":
            return self.send(400, {"error": "unsupported_grant_type"})
        if client_id is None or fake.oauth_clients.get(client_id) != secret:
            return self.send(401, {"error": "invalid_client"},
                             headers=[("WWW-Authenticate", 'Basic realm="token"')])
        token, expires_in = fake._issue_token(form.get("scope"))
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return self.send(200, answer, headers=[("Cache-Control", "no-store")])

    def _protected(self, record):
        authorization = record.header("authorization") or ""
        token = authorization[7:] if authorization.lower().startswith("bearer ") else None
        if token is None or not self.owner._token_valid(token):
            return self.send(401, {"error": "invalid_token"},
                             headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return self.send(200, self._describe(record))

    def _control(self, record):
        fake = self.owner
        if record.path == "/_control/stats":
            return self.send(200, fake.stats())
        if record.path == "/_control/requests":
            with fake._lock:
                recorded = list(fake.requests)
            return self.send(200, [self._describe(r) for r in recorded])
        if record.path == "/_control/config" and record.method == "POST":
            settings = json.loads(record.body or b"{}")
            if "token_expires_in" in settings:
                fake.token_expires_in = settings["token_expires_in"]
            return self.send(200, {"ok": True})
        if record.path == "/_control/revoke" and record.method == "POST":
            fake.revoke_tokens()
            return self.send(200, {"ok": True})
        return self.send(404, {"error": "unknown control path"})


def _json_of_size(size):
    """A valid JSON document of exactly `size` bytes (empty for 0)."""
    if size < 11:
        return b"1" * size
    return b'{"data":"' + b"x" * (size - 11) + b'"}'


class FakeUpstream(LoopbackServer):
    """The fake business application, serving in a background thread."""

    handler_class = _Handler
    thread_name = "fake-upstream"

    def __init__(self, tls=False, require_client_cert=False, host="127.0.0.1", port=0):
        self.routes = {}
        self.oauth_clients = {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        self.token_expires_in = 3600
        self.requests = []
        self.connections = 0
        self.tokens_issued = 0
        self._tokens = {}  # token -> expiry (monotonic seconds)
        self._attempts = {}
        self._lock = threading.Lock()
        self._tls = _Tls() if (tls or require_client_cert) else None
        try:
            super().__init__(host, port, self._tls.server_context(require_client_cert)
                             if self._tls else None)
        except BaseException:
            if self._tls:
                self._tls.cleanup()
            raise

    # TLS material (None without TLS).
    @property
    def cert_file(self):
        return self._tls.cert_file if self._tls else None

    @property
    def ca_file(self):
        return self._tls.ca_file if self._tls else None

    @property
    def client_cert_file(self):
        return self._tls.client_cert_file if self._tls else None

    @property
    def client_key_file(self):
        return self._tls.client_key_file if self._tls else None

    def stop(self):
        """Stops serving, closes open connections and removes TLS files."""
        super().stop()
        if self._tls:
            self._tls.cleanup()

    def revoke_tokens(self):
        with self._lock:
            self._tokens.clear()

    def stats(self):
        with self._lock:
            return {"connections": self.connections, "requests": len(self.requests),
                    "tokens_issued": self.tokens_issued}

    def requests_to(self, path_prefix):
        """Recorded requests whose decoded path starts with `path_prefix`."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    # -- used by the handler threads --------------------------------------

    def _new_connection(self):
        with self._lock:
            self.connections += 1
            return self.connections

    def _record(self, record):
        with self._lock:
            self.requests.append(record)

    def _count_attempt(self, key):
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]

    def _issue_token(self, scope):
        with self._lock:
            self.tokens_issued += 1
            token = f"tok{self.tokens_issued}-{secrets.token_hex(8)}"
            expires_in = self.token_expires_in
            self._tokens[token] = time.monotonic() + expires_in
            return token, expires_in

    def _token_valid(self, token):
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and time.monotonic() < expiry


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--require-client-cert", action="store_true")
    parser.add_argument("--exit-on-eof", action="store_true",
                        help="exit when standard input is closed")
    args = parser.parse_args(argv)

    # Signals are taken with sigwait, never by a handler: a handler setting
    # an Event can deadlock on the lock the interrupted thread holds. Every
    # thread inherits the mask, so the signal stays pending for sigwait.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    fake = FakeUpstream(tls=args.tls, require_client_cert=args.require_client_cert,
                        host=args.host, port=args.port)
    if args.exit_on_eof:
        def watch_stdin():
            # os.read, not sys.stdin: a daemon thread blocked inside a
            # buffered reader makes the interpreter abort at exit.
            while os.read(0, 4096):
                pass
            os.kill(os.getpid(), signal.SIGTERM)
        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        if fake.ca_file:
            for name in ("cert_file", "ca_file", "client_cert_file", "client_key_file"):
                print(name, getattr(fake, name))
        print("listening", fake.port, flush=True)
        signal.sigwait(stop_signals)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
