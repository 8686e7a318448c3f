"""The HTTP daemon end to end: admin pages, routing, request ids, keep-alive,
logging privacy, graceful shutdown and TLS, against the real `relais serve`
and the test-only `test-echo` connector kind."""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

from relais_harness import TEST_PLUGIN_DIR, RelaisProcess, Workspace, poll_until

API_KEY = "srv-test-key-5f1d0c"


def echo_connector(slug="echo", concurrency=None):
    limits = f"limits: {{concurrency: {concurrency}}}\n" if concurrency else ""
    return (f"slug: {slug}\nkind: test-echo\nfamily: reference\n{limits}"
            "endpoints:\n  echo: {}\n  sleep: {}\n  fail: {}\n  throw: {}\n  stream: {}\n")


def relais_yaml(server_lines=(), grants=("echo",), log_level="info"):
    """relais.yaml listening on port 0 with one apikey client granted
    `grants`; `server_lines` ("key: value") add to or replace the defaults."""
    settings = {"listen": '"127.0.0.1:0"', "threads": "2", "shutdown_grace": "5s"}
    for line in server_lines:
        key, value = line.split(":", 1)
        settings[key.strip()] = value.strip()
    server = "\n".join(["server:", *(f"  {k}: {v}" for k, v in settings.items())])
    granted = ", ".join(f"{slug}: '*'" for slug in grants)
    return (f"{server}\n"
            f"logging: {{level: {log_level}}}\n"
            f"paths: {{connectors: connectors, plugins: '{TEST_PLUGIN_DIR}', data: var}}\n"
            "clients:\n"
            "  tester:\n"
            f"    apikey: '{API_KEY}'\n"
            "    families: [reference]\n"
            f"    grants: {{{granted}}}\n")


def metric_value(text, line_prefix):
    """The value of the sample whose name and labels are `line_prefix`."""
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


class ServerTestCase(unittest.TestCase):
    """Starts relais on a fresh workspace; everything is cleaned up after."""

    def start(self, server_lines=(), connectors=None, grants=("echo",), while_starting=None):
        self.ws = Workspace()
        self.addCleanup(self.ws.cleanup)
        for slug, text in (connectors or {"echo": echo_connector()}).items():
            self.ws.write_connector(f"{slug}.yaml", text)
        self.ws.write_config(relais_yaml(server_lines, grants))
        self.relais = RelaisProcess(self.ws)
        self.relais.start(while_starting=while_starting)
        self.addCleanup(self.stop_relais)
        return self.relais

    def stop_relais(self):
        """Every test ends with a graceful stop, which must succeed."""
        code = self.relais.stop(signal.SIGTERM)
        self.assertEqual(code, 0, self.relais.stderr_text()[-3000:])

    def call(self, path, method="GET", **kw):
        sep = "&" if "?" in path else "?"
        return self.relais.request(method, f"{path}{sep}apikey={API_KEY}", **kw)

    def raw_exchange(self, data, timeout=5, wait_close=True):
        """Sends raw bytes on a new connection; returns what came back until
        the server closed (or until the first response if not wait_close)."""
        with socket.create_connection(("127.0.0.1", self.relais.port), timeout=timeout) as s:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
                if not wait_close and b"\r\n\r\n" in b"".join(chunks):
                    break
            return b"".join(chunks)

    def request_lines(self, count=0, timeout=10):
        """The `request` log lines, once there are at least `count` of them
        (each is written just after its response)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [l for l in self.relais.log_lines() if l.get("event") == "request"]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)


class ProcessTest(ServerTestCase):
    def test_a_crash_writes_no_core_dump(self):
        # A core dump would hold the requests in memory and the outbox key
        # in clear: relais sets its core size limit to 0 at start.
        self.start()
        with open(f"/proc/{self.relais.proc.pid}/limits") as f:
            (line,) = [l for l in f if l.startswith("Max core file size")]
        self.assertEqual(line.split()[4:6], ["0", "0"], line)


class AdminPages(ServerTestCase):
    def test_health(self):
        self.start()
        r = self.relais.get("/_relais/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertEqual(r.header("content-type"), "application/json")
        self.assertEqual(self.relais.get("/_relais/health/").status, 200)

    def test_ready(self):
        self.start()
        r = self.relais.get("/_relais/ready")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ready"})

    def test_metrics(self):
        self.start()
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)
        self.assertEqual(self.call("/test-echo/nope/echo").status, 404)
        r = self.call("/test-echo/echo/fail?class=upstream-timeout")
        self.assertEqual(r.status, 504)
        r = self.relais.get("/_relais/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain; version=0.0.4"))
        text = r.body.decode()
        for name in ("relais_requests_total", "relais_request_duration_seconds",
                     "relais_upstream_errors_total", "relais_open_connections",
                     "relais_rejected_connections_total", "relais_config_reloads_total",
                     "relais_build_info"):
            self.assertIn(f"# TYPE {name} ", text)
        self.assertEqual(metric_value(
            text, 'relais_requests_total{connector="echo",endpoint="echo",status="200"}'), 1)
        self.assertEqual(metric_value(
            text, 'relais_requests_total{connector="-",endpoint="-",status="404"}'), 1)
        self.assertEqual(metric_value(
            text, 'relais_request_duration_seconds_count{connector="echo",endpoint="echo"}'), 1)
        self.assertEqual(metric_value(
            text, 'relais_upstream_errors_total{connector="echo",err_class="upstream-timeout"}'), 1)
        # This scrape's connection, plus earlier ones whose close is not yet seen.
        self.assertGreaterEqual(metric_value(text, "relais_open_connections"), 1)
        self.assertIsNotNone(re.search(r'relais_build_info\{version="[^"]+"\} 1', text))
        # Admin pages are neither counted nor logged at info level.
        self.assertNotIn('endpoint="metrics"', text)
        self.assertEqual(len(self.request_lines(3)), 3)


class Routing(ServerTestCase):
    def test_unknown_connector_and_endpoint_are_404(self):
        self.start()
        for path in ("/test-echo/nope/echo", "/rest/echo/echo", "/test-echo/echo/nope",
                     "/test-echo/echo", "/test-echo"):
            r = self.call(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json()["err_class"], "not-found")
            self.assertEqual(r.json()["err"], 1)
            self.assertIsNone(r.json()["data"])

    def test_authentication_comes_first(self):
        self.start()
        r = self.relais.get("/test-echo/nope/echo")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["err_class"], "missing-credentials")

    def test_echo_gets_decoded_request_without_credentials(self):
        self.start()
        r = self.call("/test-echo/echo/echo/a%20b/c/?x=1+2&x=%C3%A9", method="POST",
                      body=b"0123456789")
        self.assertEqual(r.status, 200, r)
        data = r.json()["data"]
        self.assertEqual(data["method"], "POST")
        self.assertEqual(data["rest"], "a b/c")
        self.assertEqual(data["query"], [["x", "1 2"], ["x", "é"]])
        self.assertEqual(data["body_bytes"], 10)
        self.assertEqual(data["client"], "tester")
        self.assertEqual(r.header("content-length"), str(len(r.body)))
        self.assertEqual(r.header("content-type"), "application/json")

    def test_bearer_credentials_are_not_passed_on(self):
        self.start()
        r = self.relais.get("/test-echo/echo/echo",
                            headers={"Authorization": f"Bearer {API_KEY}"})
        self.assertEqual(r.status, 200, r)
        names = [n.lower() for n in r.json()["data"]["header_names"]]
        self.assertNotIn("authorization", names)

    def test_connector_exception_is_internal_error(self):
        self.start()
        r = self.call("/test-echo/echo/throw?v=boom")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["err_class"], "internal-error")
        line = self.relais.wait_for_log(lambda l: l.get("event") == "connector_exception")
        self.assertEqual(line["type"], "std::runtime_error")

    def test_browser_endpoints_need_no_credentials_and_reveal_nothing_else(self):
        self.start(connectors={"echo": echo_connector() + "  public: {action: echo, browser: true}\n"})
        r = self.relais.get("/test-echo/echo/public/x?state=abc")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"]["client"], "")
        self.assertEqual(r.json()["data"]["query"], [["state", "abc"]])
        # Other routes, known or not, still answer 401 to a caller without
        # credentials, and wrong credentials are refused even there.
        for path in ("/test-echo/echo/echo", "/test-echo/nope/public", "/test-echo/echo/nope"):
            r = self.relais.get(path)
            self.assertEqual((r.status, r.json()["err_class"]), (401, "missing-credentials"), path)
        r = self.relais.get("/test-echo/echo/public?apikey=wrong")
        self.assertEqual((r.status, r.json()["err_class"]), (403, "invalid-credentials"))
        # A client calls it as any endpoint: authenticated, and granted.
        self.assertEqual(self.call("/test-echo/echo/public").json()["data"]["client"], "tester")
        lines = self.request_lines(6)
        self.assertEqual([(l["endpoint"], l["client"]) for l in lines[:2]],
                         [("public", "-"), ("-", "-")])

    def test_browser_endpoints_are_rate_limited_per_address(self):
        self.start(server_lines=["limits: {anonymous: {per_second: 0.01, burst: 3}}"],
                   connectors={"echo": echo_connector() + "  public: {action: echo, browser: true}\n"})
        for _ in range(3):
            self.assertEqual(self.relais.get("/test-echo/echo/public").status, 200)
        r = self.relais.get("/test-echo/echo/public")
        self.assertEqual((r.status, r.json()["err_class"]), (429, "too-many-requests"))
        self.assertGreaterEqual(int(r.header("retry-after")), 90)
        # Another address has its own allowance; clients with credentials
        # are not counted.
        other = http.client.HTTPConnection("127.0.0.1", self.relais.port, timeout=10,
                                           source_address=("127.0.0.2", 0))
        other.request("GET", "/test-echo/echo/public")
        self.assertEqual(other.getresponse().status, 200)
        other.close()
        self.assertEqual(self.call("/test-echo/echo/public").status, 200)

    def test_malformed_target_is_bad_request(self):
        self.start()
        reply = self.raw_exchange(b"GET /test-echo/echo/echo?x=%zz HTTP/1.1\r\nHost: a\r\n"
                                  b"Connection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), reply)
        self.assertIn(b'"err_class":"bad-request"', reply)


class RequestIds(ServerTestCase):
    def test_valid_request_id_is_echoed(self):
        self.start()
        r = self.call("/test-echo/echo/echo", headers={"X-Request-ID": "trace:42.a-b_c"})
        self.assertEqual(r.header("x-request-id"), "trace:42.a-b_c")
        self.assertEqual(r.json()["data"]["request_id"], "trace:42.a-b_c")
        line = self.relais.wait_for_log(lambda l: l.get("event") == "request")
        self.assertEqual(line["request_id"], "trace:42.a-b_c")

    def test_invalid_request_id_is_replaced(self):
        self.start()
        for bad in ("has space", "x" * 129, "é", "a/b"):
            r = self.call("/test-echo/echo/echo", headers={"X-Request-ID": bad})
            rid = r.header("x-request-id")
            self.assertRegex(rid, r"^[0-9a-f]{32}$")
            self.assertEqual(r.json()["data"]["request_id"], rid)

    def test_errors_carry_a_request_id(self):
        self.start()
        r = self.relais.get("/_relais/nope")
        self.assertEqual(r.status, 404)
        self.assertRegex(r.header("x-request-id"), r"^[0-9a-f]{32}$")


class KeepAlive(ServerTestCase):
    def test_two_requests_one_connection(self):
        self.start()
        conn = self.relais.connection()
        self.addCleanup(conn.close)
        conn.request("GET", f"/test-echo/echo/echo?apikey={API_KEY}")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        self.assertIsNotNone(sock)
        conn.request("GET", f"/test-echo/echo/echo?apikey={API_KEY}")
        second = conn.getresponse()
        second.read()
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertIs(conn.sock, sock)
        metrics = self.relais.get("/_relais/metrics").body.decode()
        self.assertEqual(metric_value(metrics, "relais_open_connections"), 2)

    def test_connection_close_is_honoured(self):
        self.start()
        reply = self.raw_exchange(b"GET /_relais/health HTTP/1.1\r\nHost: a\r\n"
                                  b"Connection: close\r\n\r\n")
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 "), reply)
        self.assertIn(b"Connection: close\r\n", reply)
        self.assertTrue(reply.endswith(b'{"status":"ok"}'))

    def test_pipelined_requests_are_answered_in_order(self):
        self.start()
        reply = self.raw_exchange(
            b"GET /_relais/health HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /_relais/ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        self.assertEqual(reply.count(b"HTTP/1.1 200 "), 2)
        self.assertLess(reply.index(b'"ok"'), reply.index(b'"ready"'))


class Privacy(ServerTestCase):
    def test_logs_carry_no_request_values(self):
        self.start()
        canary = "CANARYq7Zx"
        self.call(f"/test-echo/echo/echo/{canary}-rest?name={canary}-query",
                  method="POST", body=f"{canary}-body",
                  headers={"X-Custom": f"{canary}-header",
                           "X-Request-ID": f"{canary} invalid id"})
        self.call(f"/test-echo/echo/throw?name={canary}-exception")
        self.call(f"/test-echo/{canary}-slug/echo")
        self.call(f"/test-echo/echo/{canary}-endpoint")
        self.relais.get(f"/test-echo/echo/echo?apikey={canary}-key")
        self.relais.get(f"/_relais/health?x={canary}-admin")
        self.assertEqual(len(self.request_lines(5)), 5)  # the admin page is logged at debug
        self.relais.stop()
        stderr = self.relais.stderr_text()
        self.assertNotIn(canary, stderr)
        with open(self.relais.stdout_path, encoding="utf-8") as f:
            self.assertNotIn(canary, f.read())

    def test_request_line_fields(self):
        self.start()
        self.call("/test-echo/echo/echo/x?y=z")
        self.call("/test-echo/echo/nope")
        ok, missing = self.request_lines(2)
        self.assertEqual(
            set(ok), {"ts", "level", "event", "request_id", "remote", "client", "kind",
                      "connector", "endpoint", "method", "status", "duration_ms"})
        self.assertEqual((ok["client"], ok["kind"], ok["connector"], ok["endpoint"]),
                         ("tester", "test-echo", "echo", "echo"))
        self.assertEqual((ok["remote"], ok["method"], ok["status"]), ("127.0.0.1", "GET", 200))
        self.assertIsInstance(ok["duration_ms"], float)
        self.assertEqual((missing["status"], missing["err_class"], missing["endpoint"]),
                         (404, "not-found", "-"))


class Shutdown(ServerTestCase):
    def test_sigterm_lets_the_request_in_flight_finish(self):
        self.start()
        result = {}

        def slow_call():
            try:
                r = self.call("/test-echo/echo/sleep?ms=1500")
                result["status"] = r.status
                result["body"] = r.json()
                result["connection"] = r.header("connection")
            except Exception as error:  # reported by the assertions below
                result["error"] = repr(error)

        caller = threading.Thread(target=slow_call)
        caller.start()
        self.relais.wait_for_log(lambda l: l.get("event") == "started")
        time.sleep(0.5)
        started = time.monotonic()
        self.relais.signal(signal.SIGTERM)
        self.relais.wait_for_log(lambda l: l.get("event") == "draining")
        # Not accepting any more: new connections are refused.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.relais.port), timeout=2).close()
        caller.join(10)
        self.assertEqual(result.get("status"), 200, result)
        self.assertEqual(result["body"], {"err": 0, "data": {"slept_ms": 1500}})
        self.assertEqual(result["connection"], "close")
        self.assertEqual(self.relais.proc.wait(10), 0)
        self.assertLess(time.monotonic() - started, 4)
        self.relais.wait_for_log(lambda l: l.get("event") == "stopped")

    def test_idle_connections_close_at_once(self):
        self.start()
        conn = self.relais.connection()
        self.addCleanup(conn.close)
        conn.request("GET", "/_relais/health")
        conn.getresponse().read()
        started = time.monotonic()
        self.relais.signal(signal.SIGTERM)
        self.assertEqual(self.relais.proc.wait(10), 0)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(conn.sock.recv(1), b"")

    def test_grace_period_bounds_the_wait(self):
        self.start(server_lines=["shutdown_grace: 300ms"])
        outcome = []

        def slow_call():
            try:
                outcome.append(self.call("/test-echo/echo/sleep?ms=5000").status)
            except (OSError, http.client.HTTPException) as error:
                outcome.append(type(error).__name__)

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.4)
        started = time.monotonic()
        self.relais.signal(signal.SIGTERM)
        self.assertEqual(self.relais.proc.wait(10), 0)
        self.assertLess(time.monotonic() - started, 2)
        caller.join(10)
        self.assertNotIn(200, outcome)
        self.relais.wait_for_log(lambda l: l.get("event") == "grace_expired")


class Streams(ServerTestCase):
    """Responses sent as they are produced (Server-Sent Events)."""

    def open_stream(self, query, version="HTTP/1.1"):
        s = socket.create_connection(("127.0.0.1", self.relais.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(f"GET /test-echo/echo/stream?{query}&apikey={API_KEY} {version}\r\n"
                  "Host: relais\r\n\r\n".encode())
        return s

    @staticmethod
    def read_until_close(s):
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data

    def open_connections(self, scheme_context=None):
        """Open connections, less the scrape's own (over TLS with a context)."""
        if scheme_context is None:
            text = self.relais.get("/_relais/metrics").body.decode()
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", self.relais.port,
                                               context=scheme_context, timeout=10)
            conn.request("GET", "/_relais/metrics", headers={"Connection": "close"})
            text = conn.getresponse().read().decode()
            conn.close()
        return metric_value(text, "relais_open_connections") - 1

    def test_events_are_sent_chunked_then_the_connection_closes(self):
        self.start()
        conn = self.relais.connection()
        self.addCleanup(conn.close)
        conn.request("GET", f"/test-echo/echo/stream?count=3&interval_ms=20&apikey={API_KEY}")
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("content-type"), "text/event-stream")
        self.assertEqual(r.getheader("transfer-encoding"), "chunked")
        self.assertEqual(r.getheader("connection"), "close")
        self.assertIsNone(r.getheader("content-length"))
        self.assertEqual(r.read().decode(),
                         "retry: 1000\n\n" + "".join(f"event: tick\ndata: {i}\n\n" for i in (1, 2, 3)))
        line = self.request_lines(1)[0]
        self.assertEqual((line["endpoint"], line["status"]), ("stream", 200))

    def test_http_1_0_stream_ends_with_the_connection(self):
        self.start()
        data = self.read_until_close(self.open_stream("count=2&interval_ms=10", "HTTP/1.0"))
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200 OK"), head)
        self.assertNotIn(b"Transfer-Encoding", head)
        self.assertEqual(body, b"retry: 1000\n\nevent: tick\ndata: 1\n\nevent: tick\ndata: 2\n\n")

    def test_heartbeat_keeps_a_quiet_stream_alive(self):
        self.start()
        s = self.open_stream("count=0&interval_ms=60000&heartbeat_ms=50")
        data = b""
        while data.count(b"3\r\n:\n\n\r\n") < 2:
            chunk = s.recv(4096)
            self.assertTrue(chunk, data)
            data += chunk

    def test_a_client_that_leaves_is_noticed_at_once(self):
        self.start()
        baseline = self.open_connections()
        s = self.open_stream("count=0&interval_ms=60000")
        self.assertIn(b"retry: 1000", s.recv(4096))
        poll_until(lambda: self.open_connections() == baseline + 1, 5)
        s.close()
        # Neither an event nor a heartbeat is due for a minute: only the
        # watch on the socket can see the client go.
        poll_until(lambda: self.open_connections() == baseline, 5,
                   message="the stream's connection stayed open")

    def test_reload_ends_streams_so_that_clients_are_checked_again(self):
        self.start()
        s = self.open_stream("count=0&interval_ms=60000")
        self.assertIn(b"retry: 1000", s.recv(4096))
        # The client's grant goes: its stream must not outlive it.
        self.ws.write_config(relais_yaml(grants=()))
        self.relais.signal(signal.SIGHUP)
        self.assertTrue(self.read_until_close(s).endswith(b"0\r\n\r\n"))
        self.relais.wait_for_log(lambda l: l.get("event") == "config_reloaded")
        data = self.open_stream("count=0").recv(4096)
        self.assertTrue(data.startswith(b"HTTP/1.1 403 "), data)
        self.assertIn(b'"err_class":"not-granted"', data)

    def test_head_gets_only_the_head(self):
        self.start()
        s = socket.create_connection(("127.0.0.1", self.relais.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(f"HEAD /test-echo/echo/stream?count=0&apikey={API_KEY} HTTP/1.1\r\n"
                  "Host: relais\r\n\r\n".encode())
        data = self.read_until_close(s)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK"), data)
        self.assertTrue(data.endswith(b"\r\n\r\n"), data)
        self.assertNotIn(b"retry", data)

    def test_sigterm_ends_open_streams_promptly(self):
        self.start(server_lines=["shutdown_grace: 10s"])
        streams = [self.open_stream("count=0&interval_ms=60000") for _ in range(5)]
        for s in streams:
            self.assertIn(b"retry: 1000", s.recv(4096))
        started = time.monotonic()
        self.relais.signal(signal.SIGTERM)
        self.assertEqual(self.relais.proc.wait(10), 0)
        self.assertLess(time.monotonic() - started, 2)
        for s in streams:
            # The chunked body is ended properly before the close.
            data = self.read_until_close(s)
            self.assertTrue(data.endswith(b"0\r\n\r\n"), data)
        self.assertNotIn("grace_expired", self.relais.stderr_text())


class Tls(ServerTestCase):
    def make_certificate(self, folder):
        cert = os.path.join(folder, "cert.pem")
        key = os.path.join(folder, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
             "-days", "1", "-subj", "/CN=relais-test", "-addext",
             "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True)
        return cert, key

    def start_tls(self, key_mode=0o600, server_lines=()):
        """Starts relais over TLS; returns the client's context and a connection."""
        scratch = Workspace()
        self.addCleanup(scratch.cleanup)
        self.cert, self.key = self.make_certificate(scratch.root)
        os.chmod(self.key, key_mode)
        self.start(server_lines=[f"tls: {{certificate: '{self.cert}', "
                                 f"private_key: '{self.key}'}}", *server_lines])
        context = ssl.create_default_context(cafile=self.cert)
        conn = self.https(context)
        return context, conn

    def https(self, context):
        conn = http.client.HTTPSConnection("127.0.0.1", self.relais.port, context=context,
                                           timeout=10)
        self.addCleanup(conn.close)
        return conn

    def health(self, conn):
        conn.request("GET", "/_relais/health")
        r = conn.getresponse()
        r.read()
        return r.status

    def test_a_reload_serves_a_renewed_certificate(self):
        old_context, old_conn = self.start_tls()
        self.assertEqual(self.health(old_conn), 200)
        self.assertNotIn("tls_key_permissions", self.relais.stderr_text())
        # Renewed in place, as certbot does: same paths, a new pair.
        renewed = Workspace()
        self.addCleanup(renewed.cleanup)
        cert, key = self.make_certificate(renewed.root)
        for source, target in ((cert, self.cert), (key, self.key)):
            with open(source, "rb") as f, open(target, "wb") as out:
                out.write(f.read())
        since = len(self.relais.log_lines())
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda line: line.get("event") == "config_reloaded")
        self.assertFalse([line for line in self.relais.log_lines(since)
                          if line.get("event") == "restart_needed"])
        self.assertEqual(self.health(self.https(ssl.create_default_context(cafile=cert))), 200)
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.health(self.https(old_context))
        # A connection opened before the reload carries on with its session.
        self.assertEqual(self.health(old_conn), 200)

    def test_tls_1_2_offers_only_forward_secret_aead_suites(self):
        context, _ = self.start_tls()
        for ciphers, accepted in (("ECDHE-ECDSA-AES128-GCM-SHA256", True),
                                  ("ECDHE-ECDSA-CHACHA20-POLY1305", True),
                                  ("ECDHE-ECDSA-AES128-SHA", False),
                                  ("ECDHE-ECDSA-AES128-SHA256", False)):
            tls12 = ssl.create_default_context(cafile=self.cert)
            tls12.maximum_version = ssl.TLSVersion.TLSv1_2
            tls12.set_ciphers(ciphers)
            if accepted:
                self.assertEqual(self.health(self.https(tls12)), 200, ciphers)
            else:
                with self.assertRaises(ssl.SSLError, msg=ciphers):
                    self.health(self.https(tls12))
        self.assertEqual(self.health(self.https(context)), 200)

    def test_a_connection_over_the_limit_gets_2_s_for_its_handshake(self):
        _, conn = self.start_tls(server_lines=["limits: {max_connections: 1, read_timeout: 20s}"])
        self.assertEqual(self.health(conn), 200)  # holds the only slot
        with socket.create_connection(("127.0.0.1", self.relais.port), timeout=15) as silent:
            started = time.monotonic()
            self.assertEqual(silent.recv(1), b"")
            self.assertLess(time.monotonic() - started, 5)

    def test_a_key_other_users_may_read_is_reported(self):
        _, conn = self.start_tls(key_mode=0o644)
        self.assertEqual(self.health(conn), 200)
        warnings = [line for line in self.relais.log_lines()
                    if line.get("event") == "tls_key_permissions"]
        self.assertEqual([w["path"] for w in warnings], [self.key])

    def test_serves_over_tls(self):
        _, conn = self.start_tls()
        for _ in range(2):
            conn.request("GET", f"/test-echo/echo/echo?apikey={API_KEY}")
            r = conn.getresponse()
            body = json.loads(r.read())
            self.assertEqual(r.status, 200)
            self.assertEqual(body["data"]["client"], "tester")
        # Plain HTTP on the TLS port gets nowhere, and the server carries on.
        with self.assertRaises((http.client.HTTPException, OSError)):
            plain = http.client.HTTPConnection("127.0.0.1", self.relais.port, timeout=5)
            plain.request("GET", "/_relais/health")
            plain.getresponse().read()
        conn.request("GET", "/_relais/health")
        self.assertEqual(conn.getresponse().status, 200)

    def test_streams_over_tls(self):
        context, conn = self.start_tls()
        conn.request("GET", f"/test-echo/echo/stream?count=3&interval_ms=20&apikey={API_KEY}")
        r = conn.getresponse()
        self.assertEqual(r.getheader("transfer-encoding"), "chunked")
        self.assertTrue(r.read().decode().endswith("event: tick\ndata: 3\n\n"))
        # A TLS client that leaves an endless stream is noticed at once too.
        baseline = Streams.open_connections(self, scheme_context=context)
        raw = context.wrap_socket(socket.create_connection(("127.0.0.1", self.relais.port)),
                                  server_hostname="127.0.0.1")
        raw.sendall(f"GET /test-echo/echo/stream?count=0&interval_ms=60000&apikey={API_KEY} "
                    "HTTP/1.1\r\nHost: relais\r\n\r\n".encode())
        self.assertIn(b"retry: 1000", raw.recv(4096))
        poll_until(lambda: Streams.open_connections(self, context) == baseline + 1, 5)
        raw.close()
        poll_until(lambda: Streams.open_connections(self, context) == baseline, 5,
                   message="the TLS stream's connection stayed open")


if __name__ == "__main__":
    unittest.main()
