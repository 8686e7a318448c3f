"""The `phonecalls` connector kind through the real relais binary: the phone
system's call-start (with extra query parameters as data) and call-stop,
the agents' calls and calls/stream (Server-Sent Events, 500 at once),
expiry with nobody calling, garbage from the phone system, SIGTERM and
SIGHUP with streams open, a refused reload, and a canary number that must
never reach the logs or the data directory."""
import json
import os
import signal
import time
import unittest
import urllib.parse

import relais_harness
from relais_harness import PLUGIN_DIR, Workspace, enter, poll_until, written_bytes
from sse_client import SseStream, open_streams, pump

API_KEY = "phonecalls-integration-key"
AUTH = {"Authorization": "Bearer " + API_KEY}
FAMILY = "etat-civil-citoyennete"
ENDPOINTS = {"call-start": {}, "call-stop": {}, "calls": {}}
CANARY_NUMBER = "+33 6 99 71 42 58"
CANARY_DATA = "CANARY-phonecalls-4b1d"
CANARY_EXTRA = "CANARY-phonecalls-extra-93fa"
CANARY_NAME = "canary-phonecalls-name-5e07"
STREAMS = 500


def connector(slug, **settings):
    return json.dumps(dict({"slug": slug, "kind": "phonecalls", "family": FAMILY,
                            "endpoints": ENDPOINTS}, **settings), indent=1)


def write_config(ws, slugs, log_level="debug", grace="5s"):
    ws.write_config(json.dumps({
        "server": {"listen": "127.0.0.1:0", "threads": 2, "shutdown_grace": grace,
                   "limits": {"max_connections": 2000}},
        "logging": {"level": log_level},
        "paths": {"connectors": "./connectors", "plugins": PLUGIN_DIR, "data": "./var"},
        "clients": {"tester": {"apikey": API_KEY, "families": [FAMILY],
                               "grants": {slug: "*" for slug in slugs}}},
    }, indent=1))


def query(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


class PhonecallsCase(unittest.TestCase):
    """Helpers of both test classes; `self.relais` is the process."""

    def get(self, path, **params):
        return self.relais.get(query(path, **params), headers=AUTH)

    def post(self, path, body, **params):
        return self.relais.post(query(path, **params), body=body,
                                headers=dict(AUTH, **{"Content-Type": "application/json"}))

    def data(self, response):
        self.assertEqual(response.status, 200, response)
        body = response.json()
        self.assertEqual(body["err"], 0, body)
        return body["data"]

    def assert_error(self, response, status, err_class):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual((body["err"], body["err_class"], body["data"]), (1, err_class, None))
        return body

    def stream(self, slug, callee):
        stream = SseStream(self.relais.port,
                           query(f"/phonecalls/{slug}/calls/stream", callee=callee), AUTH)
        self.addCleanup(stream.close)
        self.assertTrue(pump([stream], lambda: stream.named("calls")), "no snapshot")
        return stream


class PhonecallsTest(PhonecallsCase):
    @classmethod
    def setUpClass(cls):
        cls.ws = enter(cls.addClassCleanup, Workspace())
        cls.ws.write_connector("pc-main.yaml", connector("pc-main", max_streams=STREAMS + 50))
        cls.ws.write_connector("pc-short.yaml", connector(
            "pc-short", retention="1s", max_call_duration="1s", heartbeat="200ms"))
        cls.ws.write_connector("pc-tiny.yaml", connector("pc-tiny", max_streams=2))
        write_config(cls.ws, ["pc-main", "pc-short", "pc-tiny"])
        cls.relais = relais_harness.start_relais(cls.addClassCleanup, cls.ws)

    def test_start_stop_list_round_trip(self):
        base = "/phonecalls/pc-main/"
        first = self.data(self.get(base + "call-start", caller="0611111111", callee="2001"))
        self.assertEqual((first["caller"], first["callee"], first["end"], first["data"]),
                         ("0611111111", "2001", None, {}))
        self.assertRegex(first["start"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        second = self.data(self.post(base + "call-start", {"name": "Dupont", "ticket": 7},
                                     caller="+33 6 22 22 22 22", callee="2001"))
        self.assertEqual(second["data"], {"name": "Dupont", "ticket": 7})

        calls = self.data(self.get(base + "calls", callee="2001"))
        self.assertEqual([c["caller"] for c in calls["current"]],
                         ["+33 6 22 22 22 22", "0611111111"])
        self.assertEqual(calls["past"], [])
        self.assertEqual(self.data(self.get(base + "calls", callee="2002")),
                         {"current": [], "past": []})

        stopped = self.data(self.get(base + "call-stop", caller="0611111111", callee="2001"))
        self.assertEqual(stopped["caller"], "0611111111")
        self.assertIsNotNone(stopped["end"])
        calls = self.data(self.get(base + "calls", callee="2001"))
        self.assertEqual([c["caller"] for c in calls["current"]], ["+33 6 22 22 22 22"])
        self.assertEqual(calls["past"], [stopped])
        self.assertEqual(self.data(self.get(base + "calls", callee="2001", limit="0"))["past"], [])

        # Passerelle's tolerance: a stop of a call relais does not know is no error.
        self.assertIsNone(self.data(self.get(base + "call-stop", caller="0611111111",
                                             callee="2001")))
        self.assertIsNone(self.data(self.post(base + "call-stop", None, caller="0699999999",
                                              callee="2999")))

        # A start of a current call restarts it: the old one ends.
        self.data(self.get(base + "call-start", caller="+33 6 22 22 22 22", callee="2001"))
        calls = self.data(self.get(base + "calls", callee="2001"))
        self.assertEqual(len(calls["current"]), 1)
        self.assertEqual(calls["current"][0]["data"], {})
        self.assertEqual([c["caller"] for c in calls["past"]],
                         ["+33 6 22 22 22 22", "0611111111"])

    def test_garbage_from_the_phone_system_is_refused(self):
        base = "/phonecalls/pc-main/"
        huge = "6" * 10 * 1024
        cases = [
            (self.get(base + "call-start", callee="2101"), 400, "missing-parameter", "caller"),
            (self.get(base + "call-start", caller="0611111111"), 400, "missing-parameter",
             "callee"),
            (self.get(base + "call-start", caller=huge, callee="2101"), 400,
             "invalid-parameter", "caller"),
            (self.get(base + "call-stop", caller="0611111111", callee=huge), 400,
             "invalid-parameter", "callee"),
            (self.get(base + "call-start", caller="'; DROP TABLE", callee="2101"), 400,
             "invalid-parameter", "caller"),
            (self.post(base + "call-start", [1, 2], caller="0611111111", callee="2101"), 400,
             "invalid-body", "object"),
            (self.post(base + "call-start", "{not json", caller="0611111111", callee="2101"),
             400, "invalid-json", "JSON"),
            (self.post(base + "call-start", b'{"a": 1}\x00{"DROP": "\n"}', caller="0611111111",
                       callee="2101"), 400, "invalid-json", "JSON"),
            (self.post(base + "call-start", b'{"a": 1} {"DROP": 2}', caller="0611111111",
                       callee="2101"), 400, "invalid-json", "JSON"),
            (self.post(base + "call-start", b'{"DROP": 123456789012345678901234}',
                       caller="0611111111", callee="2101"), 400, "invalid-json", "round"),
            (self.get(base + "call-start", caller="0611111111", callee="2101",
                      **{"DROP TABLE": "x"}), 400, "invalid-parameter", "names"),
            (self.get(base + "call-start", caller="0611111111", callee="2101",
                      note="DROP" * 100), 400, "invalid-parameter", "256 bytes"),
            (self.get(base + "call-start", caller="0611111111", callee="2101",
                      **{f"p{i}": "x" for i in range(21)}), 400, "invalid-parameter", "20"),
            (self.post(base + "call-start", {"x": "y" * 5000}, caller="0611111111",
                       callee="2101"), 413, "payload-too-large", "4096"),
            (self.get(base + "calls", callee="2101", limit="1000"), 400, "invalid-parameter",
             "limit"),
            (self.get(base + "calls"), 400, "missing-parameter", "callee"),
            (self.get(base + "calls/stream", callee=huge), 400, "invalid-parameter", "callee"),
            (self.get(base + "calls/other", callee="2101"), 404, "not-found", "stream"),
        ]
        for response, status, err_class, named in cases:
            with self.subTest(err_class=err_class, named=named):
                body = self.assert_error(response, status, err_class)
                self.assertIn(named, body["err_desc"])
                self.assertNotIn("666666", body["err_desc"])
                self.assertNotIn("DROP", body["err_desc"])
        refused = self.relais.request("DELETE", query(base + "calls", callee="2101"),
                                      headers=AUTH)
        self.assert_error(refused, 405, "method-not-allowed")
        self.assertEqual(refused.header("Allow"), "GET")
        # Nothing of the refused calls was kept.
        self.assertEqual(self.data(self.get(base + "calls", callee="2101")),
                         {"current": [], "past": []})

    def test_extra_query_parameters_are_the_data(self):
        base = "/phonecalls/pc-main/"
        call = self.data(self.get(base + "call-start", caller="0611111111", callee="2151",
                                  name="Dupont", **{"queue.id": "accueil"}))
        self.assertEqual(call["data"], {"name": "Dupont", "queue.id": "accueil"})
        call = self.data(self.post(base + "call-start", {"name": "Durand", "ticket": 7},
                                   caller="0622222222", callee="2151", name="ignored", queue="q"))
        self.assertEqual(call["data"], {"queue": "q", "name": "Durand", "ticket": 7})
        calls = self.data(self.get(base + "calls", callee="2151"))
        self.assertEqual([c["data"] for c in calls["current"]],
                         [{"queue": "q", "name": "Durand", "ticket": 7},
                          {"name": "Dupont", "queue.id": "accueil"}])

    def test_refused_call_start_with_a_stream_open_changes_nothing(self):
        base = "/phonecalls/pc-main/"
        stream = self.stream("pc-main", "2161")
        for body in (b'{"a": 1}\x00{"b": "\n"}', b'{"a": 1}\x00', b'{"a": 1}\n{"b": 2}'):
            with self.subTest(body=body):
                self.assert_error(self.post(base + "call-start", body, caller="0611111111",
                                            callee="2161"), 400, "invalid-json")
        self.assertEqual(self.data(self.get(base + "calls", callee="2161")),
                         {"current": [], "past": []})
        call = self.data(self.post(base + "call-start", {"b": "line\nbreak"},
                                   caller="0611111111", callee="2161", a="1"))
        self.assertEqual(call["data"], {"a": "1", "b": "line\nbreak"})
        self.assertTrue(pump([stream], lambda: stream.named("call-start")))
        self.assertEqual(json.loads(stream.named("call-start")[0]), call)
        self.assertEqual(self.data(self.get(base + "calls", callee="2161"))["current"], [call])
        self.assertEqual([name for name, _ in stream.events], ["calls", "call-start"])
        self.assertFalse(stream.closed)

    def test_stream_answer_and_limit(self):
        stream = self.stream("pc-tiny", "2201")
        self.assertEqual(stream.status, 200)
        self.assertTrue(stream.headers["content-type"].startswith("text/event-stream"))
        self.assertEqual(stream.headers["cache-control"], "no-store")
        self.assertEqual(stream.headers["x-accel-buffering"], "no")
        self.assertEqual(stream.retry, 3000)
        self.assertEqual(json.loads(stream.named("calls")[0]), {"current": [], "past": []})
        self.stream("pc-tiny", "2202")
        self.assert_error(self.get("/phonecalls/pc-tiny/calls/stream", callee="2203"), 503,
                          "overloaded")
        # A stream that goes away frees its place.
        stream.close()
        poll_until(lambda: self._reopened("2203"), 5,
                   message="the closed stream's place was not freed")

    def _reopened(self, callee):
        """Whether a stream of `callee` on pc-tiny opens now."""
        try:
            stream = SseStream(self.relais.port, query("/phonecalls/pc-tiny/calls/stream",
                                                       callee=callee), AUTH)
        except OSError:
            return False
        self.addCleanup(stream.close)
        pump([stream], lambda: stream.status is not None, timeout=5)
        return stream.status == 200

    def test_retention_forgets_ended_calls(self):
        base = "/phonecalls/pc-short/"
        self.data(self.get(base + "call-start", caller="0633333333", callee="2301"))
        self.data(self.get(base + "call-stop", caller="0633333333", callee="2301"))
        self.assertEqual(len(self.data(self.get(base + "calls", callee="2301"))["past"]), 1)
        time.sleep(1.5)
        self.assertEqual(self.data(self.get(base + "calls", callee="2301")),
                         {"current": [], "past": []})

    def test_max_duration_stops_the_call_and_tells_the_stream(self):
        stream = self.stream("pc-short", "2401")
        started_at = time.monotonic()
        self.data(self.get("/phonecalls/pc-short/call-start", caller="0644444444",
                           callee="2401"))
        self.assertTrue(pump([stream], lambda: stream.named("call-stop"), timeout=5),
                        f"no call-stop event: {stream.events}")
        elapsed = time.monotonic() - started_at
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 3.5)
        self.assertEqual([name for name, _ in stream.events], ["calls", "call-start", "call-stop"])
        stop = json.loads(stream.named("call-stop")[0])
        self.assertEqual((stop["caller"], stop["callee"]), ("0644444444", "2401"))
        self.assertIsNotNone(stop["end"])
        # Heartbeats (200ms here) keep the quiet stream alive.
        pump([stream], lambda: stream.comments >= 2, timeout=2)
        self.assertGreaterEqual(stream.comments, 2)

    def test_500_streams_receive_one_call_start(self):
        path = query("/phonecalls/pc-main/calls/stream", callee="2501")
        streams = open_streams(self.relais.port, path, STREAMS, AUTH)
        try:
            self.assertTrue(pump(streams, lambda: all(s.named("calls") for s in streams), 30),
                            f"{sum(1 for s in streams if s.named('calls'))} snapshots")
            self.assertTrue(all(s.status == 200 for s in streams))
            self.data(self.post("/phonecalls/pc-main/call-start", {"agent_hint": "x"},
                                caller="0655555555", callee="2501"))
            self.assertTrue(pump(streams, lambda: all(s.named("call-start") for s in streams),
                                 30),
                            f"{sum(1 for s in streams if s.named('call-start'))} received")
            for s in streams:
                call = json.loads(s.named("call-start")[0])
                self.assertEqual((call["caller"], call["data"]), ("0655555555",
                                                                  {"agent_hint": "x"}))
        finally:
            for s in streams:
                s.close()

    def test_canary_number_is_never_written(self):
        base = "/phonecalls/pc-main/"
        stream = self.stream("pc-main", CANARY_NUMBER)
        self.data(self.post(base + "call-start", {"name": CANARY_DATA}, caller=CANARY_NUMBER,
                            callee=CANARY_NUMBER, note=CANARY_EXTRA, **{CANARY_NAME: "1"}))
        current = self.data(self.get(base + "calls", callee=CANARY_NUMBER))["current"][0]
        self.assertEqual((current["caller"], current["data"]),
                         (CANARY_NUMBER, {"note": CANARY_EXTRA, CANARY_NAME: "1",
                                          "name": CANARY_DATA}))
        self.assert_error(self.post(base + "call-start", "[" + CANARY_DATA,
                                    caller=CANARY_NUMBER, callee="2601"), 400, "invalid-json")
        self.assert_error(self.get(base + "call-start", caller=CANARY_NUMBER + "x" * 40,
                                   callee="2601"), 400, "invalid-parameter")
        self.assert_error(self.get(base + "call-start", caller=CANARY_NUMBER, callee="2601",
                                   note=CANARY_EXTRA * 10), 400, "invalid-parameter")
        self.assert_error(self.get(base + "call-start", caller=CANARY_NUMBER, callee="2601",
                                   **{CANARY_NAME + "/": CANARY_EXTRA}), 400,
                          "invalid-parameter")
        self.data(self.get(base + "call-stop", caller=CANARY_NUMBER, callee=CANARY_NUMBER))
        self.assertTrue(pump([stream], lambda: stream.named("call-stop")))
        written = written_bytes(self.ws)
        for canary in (CANARY_NUMBER, urllib.parse.quote_plus(CANARY_NUMBER),
                       urllib.parse.quote(CANARY_NUMBER), CANARY_DATA, CANARY_EXTRA,
                       CANARY_NAME):
            self.assertNotIn(canary.encode(), written)


class PhonecallsLifecycleTest(PhonecallsCase):
    """SIGTERM and SIGHUP with streams open, one relais per test."""

    def setUp(self):
        self.ws = enter(self.addCleanup, Workspace())
        self.ws.write_connector("standard.yaml", connector("standard", heartbeat="1s"))
        write_config(self.ws, ["standard"], log_level="info")
        self.relais = relais_harness.start_relais(self.addCleanup, self.ws)

    def test_sigterm_with_open_streams_exits_promptly(self):
        streams = open_streams(self.relais.port,
                               query("/phonecalls/standard/calls/stream", callee="2701"), 20, AUTH)
        for s in streams:
            self.addCleanup(s.close)
        self.assertTrue(pump(streams, lambda: all(s.named("calls") for s in streams)))
        started = time.monotonic()
        self.assertEqual(self.relais.stop(signal.SIGTERM), 0)
        self.assertLess(time.monotonic() - started, 3)
        self.assertTrue(pump(streams, lambda: all(s.closed for s in streams), timeout=2))
        self.assertNotIn("grace_expired", self.relais.log_text())

    def test_sighup_ends_streams_and_keeps_calls(self):
        base = "/phonecalls/standard/"
        stream = self.stream("standard", "2801")
        self.data(self.get(base + "call-start", caller="0688888888", callee="2801"))
        self.assertTrue(pump([stream], lambda: stream.named("call-start")))
        self.ws.write_connector("standard.yaml", connector("standard", heartbeat="2s",
                                                           description="reloaded"))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda line: line.get("event") == "config_reloaded")
        # The stream ends cleanly; EventSource reconnects under the new grants.
        self.assertTrue(pump([stream], lambda: stream.closed), "the stream outlived the reload")
        self.assertTrue(stream.ended, "the stream did not end with its last chunk")
        again = self.stream("standard", "2801")
        self.assertEqual([c["caller"] for c in json.loads(again.named("calls")[0])["current"]],
                         ["0688888888"])
        self.data(self.get(base + "call-stop", caller="0688888888", callee="2801"))
        self.data(self.get(base + "call-start", caller="0677777777", callee="2801"))
        self.assertTrue(pump([again], lambda: again.named("call-start")),
                        f"events after the reload: {again.events}")
        self.assertEqual([name for name, _ in again.events], ["calls", "call-stop", "call-start"])
        self.assertEqual(json.loads(again.named("call-start")[0])["caller"], "0677777777")

    def test_refused_reload_leaves_the_call_book_as_it_was(self):
        base = "/phonecalls/standard/"
        self.assertEqual(self.data(self.get(base + "calls", callee="2901")),
                         {"current": [], "past": []})
        self.ws.write_connector("standard.yaml", connector("standard", max_calls=1,
                                                           retention="0s"))
        self.ws.write_connector("broken.yaml", connector("broken", max_calls="many"))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda line: line.get("event") == "reload_failed")
        # Still max_calls 10000 and retention 10m.
        self.data(self.get(base + "call-start", caller="0611111111", callee="2901"))
        self.data(self.get(base + "call-start", caller="0622222222", callee="2901"))
        self.data(self.get(base + "call-stop", caller="0611111111", callee="2901"))
        calls = self.data(self.get(base + "calls", callee="2901"))
        self.assertEqual([c["caller"] for c in calls["past"]], ["0611111111"])

        # Once the configuration is valid, the new settings apply.
        os.remove(os.path.join(self.ws.connectors, "broken.yaml"))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda line: line.get("event") == "config_reloaded")
        self.assert_error(self.get(base + "call-start", caller="0633333333", callee="2901"),
                          503, "overloaded")
        self.assertEqual(self.data(self.get(base + "calls", callee="2901"))["past"], [])

if __name__ == "__main__":
    unittest.main()
