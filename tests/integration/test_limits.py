"""Server limits: body and header sizes, read and idle timeouts, the
connection limit and a connector's concurrency limit."""
import http.client
import signal
import socket
import threading
import time
import unittest

import test_server
from test_server import API_KEY, echo_connector, metric_value


class Limits(test_server.ServerTestCase):
    def test_body_over_limit_is_413(self):
        self.start(server_lines=["limits: {body_bytes: 1024}"])
        ok = self.call("/test-echo/echo/echo", method="POST", body=b"x" * 1024)
        self.assertEqual(ok.status, 200)
        r = self.call("/test-echo/echo/echo", method="POST", body=b"x" * 5000)
        self.assertEqual(r.status, 413)
        self.assertEqual(r.json()["err_class"], "payload-too-large")
        self.assertEqual(r.header("connection"), "close")

    def assert_chunked_413(self, path, chunk_bytes, chunks):
        """A chunked body of `chunks` chunks posted to `path` is refused with 413."""
        chunk = b"x" * chunk_bytes
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk)
                        for _ in range(chunks)) + b"0\r\n\r\n"
        reply = self.raw_exchange(
            f"POST {path}?apikey={API_KEY} HTTP/1.1\r\nHost: a\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode() + body)
        self.assertTrue(reply.startswith(b"HTTP/1.1 413 "), reply)

    def test_an_endpoint_may_have_its_own_body_limit(self):
        connector = ("slug: echo\nkind: test-echo\nfamily: reference\nendpoints:\n"
                     "  echo: {}\n"
                     "  big: {action: echo, max_body_bytes: 4096}\n"
                     "  small: {action: echo, max_body_bytes: 100}\n")
        self.start(server_lines=["limits: {body_bytes: 1024}"], connectors={"echo": connector})
        big = self.call("/test-echo/echo/big", method="POST", body=b"x" * 4096)
        self.assertEqual(big.status, 200, big.body)
        self.assertEqual(big.json()["data"]["body_bytes"], 4096)
        for path, size in (("/test-echo/echo/big", 4097), ("/test-echo/echo/small", 101),
                           ("/test-echo/echo/echo", 1025), ("/test-echo/nope/x", 1025)):
            r = self.call(path, method="POST", body=b"x" * size)
            self.assertEqual(r.status, 413, path)
            self.assertEqual(r.json()["err_class"], "payload-too-large")
        self.assertEqual(self.call("/test-echo/echo/small", method="POST", body=b"x" * 100).status,
                         200)
        # Without a length the route's limit bounds what is read as well.
        self.assert_chunked_413("/test-echo/echo/big", chunk_bytes=1000, chunks=5)

    def test_chunked_body_over_limit_is_413(self):
        self.start(server_lines=["limits: {body_bytes: 1024}"])
        self.assert_chunked_413("/test-echo/echo/echo", chunk_bytes=800, chunks=3)

    def test_chunk_extensions_and_trailers_are_bounded_like_the_head(self):
        # Framing past the head stays in relais's buffer until parsed: a
        # chunk size line or trailers without end are refused, not buffered.
        self.start(server_lines=["limits: {header_bytes: 1024, body_bytes: 10000}"])
        head = (f"POST /test-echo/echo/echo?apikey={API_KEY} HTTP/1.1\r\nHost: a\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        for framing in (b"7;a=" + b"e" * 300_000,
                        b"2\r\n{}\r\n0\r\nX-T: " + b"t" * 300_000):
            reply = self.raw_exchange(head + framing)
            self.assertTrue(reply.startswith(b"HTTP/1.1 431 "), reply[:200])
            self.assertIn(b'"err_class":"headers-too-large"', reply)
        ok = self.raw_exchange(head.replace(b"Host: a\r\n", b"Host: a\r\nConnection: close\r\n")
                               + b"2\r\n{}\r\n0\r\nX-T: t\r\n\r\n")
        self.assertTrue(ok.startswith(b"HTTP/1.1 200 "), ok[:200])

    def test_transfer_codings_relais_cannot_frame_are_400(self):
        # RFC 9112 6.3: a body whose end is not chunked framing is refused,
        # and the connection closed: nothing after it is read as a request.
        self.start()
        smuggled = b"GET /_relais/metrics HTTP/1.1\r\nHost: a\r\n\r\n"
        for framing in (b"Transfer-Encoding: chunked, identity\r\n",
                        b"Transfer-Encoding: gzip\r\n",
                        b"Transfer-Encoding: identity\r\nContent-Length: %d\r\n" % len(smuggled)):
            reply = self.raw_exchange(
                f"POST /test-echo/echo/echo?apikey={API_KEY} HTTP/1.1\r\nHost: a\r\n".encode()
                + framing + b"\r\n" + smuggled)
            self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), reply[:200])
            self.assertIn(b'"err_class":"bad-request"', reply)
            self.assertEqual(reply.count(b"HTTP/1.1 "), 1, reply)

    def test_an_http_1_1_request_has_one_host(self):
        self.start()
        target = f"/test-echo/echo/echo?apikey={API_KEY}"
        for head in (f"GET {target} HTTP/1.1\r\n",
                     f"GET {target} HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
                     f"GET {target} HTTP/1.0\r\nHost: a\r\nHost: b\r\n"):
            reply = self.raw_exchange((head + "\r\n").encode())
            self.assertTrue(reply.startswith(b"HTTP/1.1 400 "), (head, reply[:200]))
            self.assertIn(b'"err_class":"bad-request"', reply)
        reply = self.raw_exchange(f"GET {target} HTTP/1.0\r\n\r\n".encode())
        self.assertTrue(reply.startswith(b"HTTP/1.0 200 "), reply[:200])

    def test_trailers_are_not_headers(self):
        # Credentials or a request id sent as trailers count for nothing.
        self.start()
        reply = self.raw_exchange(
            b"POST /test-echo/echo/echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
            + f"Authorization: Bearer {API_KEY}\r\nX-Request-ID: from-a-trailer\r\n\r\n".encode())
        self.assertTrue(reply.startswith(b"HTTP/1.1 401 "), reply[:300])
        self.assertIn(b'"err_class":"missing-credentials"', reply)
        self.assertNotIn(b"from-a-trailer", reply)

    def test_headers_over_limit_are_431(self):
        self.start(server_lines=["limits: {header_bytes: 1024}"])
        r = self.call("/test-echo/echo/echo", headers={"X-Big": "y" * 4000})
        self.assertEqual(r.status, 431)
        self.assertEqual(r.json()["err_class"], "headers-too-large")
        self.assertEqual(self.call("/test-echo/echo/echo", headers={"X-Small": "y"}).status, 200)

    def test_slow_request_is_408(self):
        self.start(server_lines=["limits: {read_timeout: 500ms}"])
        started = time.monotonic()
        reply = self.raw_exchange(b"GET /_relais/health HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        self.assertTrue(reply.startswith(b"HTTP/1.1 408 "), reply)
        self.assertIn(b'"err_class":"request-timeout"', reply)
        self.assertLess(time.monotonic() - started, 3)

    def test_silent_connection_is_closed_without_answer(self):
        self.start(server_lines=["limits: {read_timeout: 300ms}"])
        started = time.monotonic()
        self.assertEqual(self.raw_exchange(b""), b"")
        self.assertLess(time.monotonic() - started, 3)

    def test_idle_keep_alive_connection_is_closed(self):
        self.start(server_lines=["limits: {idle_timeout: 300ms}"])
        conn = self.relais.connection()
        self.addCleanup(conn.close)
        conn.request("GET", "/_relais/health")
        conn.getresponse().read()
        sock = conn.sock
        sock.settimeout(5)
        started = time.monotonic()
        self.assertEqual(sock.recv(1), b"")
        self.assertLess(time.monotonic() - started, 3)

    def test_connections_beyond_max_get_503(self):
        self.start(server_lines=["limits: {max_connections: 2}"])
        held = []
        for _ in range(2):
            conn = self.relais.connection()
            self.addCleanup(conn.close)
            conn.request("GET", "/_relais/health")
            self.assertEqual(conn.getresponse().read(), b'{"status":"ok"}')
            held.append(conn)
        r = self.relais.get("/_relais/health")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.json()["err_class"], "overloaded")
        self.assertEqual(r.header("connection"), "close")
        held[0].close()
        time.sleep(0.2)
        metrics = self.relais.get("/_relais/metrics").body.decode()
        self.assertEqual(metric_value(metrics, "relais_rejected_connections_total"), 1)

    def test_connector_concurrency_limit_is_503(self):
        self.start(connectors={"echo": echo_connector(concurrency=1)})
        slow = {}
        caller = threading.Thread(
            target=lambda: slow.update(status=self.call("/test-echo/echo/sleep?ms=1000").status))
        caller.start()
        time.sleep(0.3)
        r = self.call("/test-echo/echo/sleep?ms=0")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.json()["err_class"], "overloaded")
        caller.join(10)
        self.assertEqual(slow.get("status"), 200)
        self.assertEqual(self.call("/test-echo/echo/sleep?ms=0").status, 200)

    def test_concurrency_limit_holds_across_a_reload(self):
        self.start(connectors={"echo": echo_connector(concurrency=1)})
        slow = {}
        caller = threading.Thread(
            target=lambda: slow.update(status=self.call("/test-echo/echo/sleep?ms=1500").status))
        caller.start()
        time.sleep(0.3)
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda l: l.get("event") == "config_reloaded")
        r = self.call("/test-echo/echo/sleep?ms=0")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.json()["err_class"], "overloaded")
        metrics = self.relais.get("/_relais/metrics").body.decode()
        self.assertEqual(metric_value(metrics, 'relais_requests_in_flight{connector="echo"}'), 1)
        caller.join(10)
        self.assertEqual(slow.get("status"), 200)
        self.assertEqual(self.call("/test-echo/echo/sleep?ms=0").status, 200)

    def test_expect_100_continue(self):
        self.start()
        with socket.create_connection(("127.0.0.1", self.relais.port), timeout=5) as s:
            s.sendall(f"POST /test-echo/echo/echo?apikey={API_KEY} HTTP/1.1\r\nHost: a\r\n"
                      "Content-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
                      .encode())
            interim = s.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim)
            s.sendall(b"abcd")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 "), reply)
        self.assertIn(b'"body_bytes":4', reply)


if __name__ == "__main__":
    unittest.main()
