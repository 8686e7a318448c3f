"""The `rest` connector kind against the fake upstream, through the real
relais binary: escaping of hostile values as the upstream receives them,
refusals, upstream failures, cache, retries, upstream authentication and
what is (not) logged."""
import base64
import json
import os
import socket
import unittest
import urllib.parse
import uuid

from fake_upstream import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeUpstream
import relais_harness
from relais_harness import PLUGIN_DIR, SOURCE_DIR, Workspace, enter, written_bytes

API_KEY = "rest-integration-key"
AUTH = {"Authorization": "Bearer " + API_KEY}
CANARY = "CANARY-7f3a9c"

GEOCODE = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3488, 48.8534]},
         "properties": {"id": "75104_1", "label": "8 Boulevard du Palais 75004 Paris"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
         "properties": {"label": "Rue sans id"}},
    ],
}


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connector(slug, family, upstream, endpoints):
    return json.dumps({"slug": slug, "kind": "rest", "family": family,
                       "upstream": upstream, "endpoints": endpoints}, indent=1)


def start_relais(test_class, families, granted, threads=1, log_level=None):
    """Starts relais on `test_class.ws` for the tests of the class (a class
    cleanup stops it) with one client, `tester`, calling with API_KEY: of
    `families`, granted every endpoint of the connectors `granted`."""
    relais_harness.write_client_config(test_class.ws, API_KEY, families, granted, threads,
                                       log_level)
    return relais_harness.start_relais(test_class.addClassCleanup, test_class.ws)


class RestConnectorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeUpstream())
        cls.fake.routes["/json/geo"] = (200, {}, GEOCODE)
        cls.ws = enter(cls.addClassCleanup, Workspace())
        base = {"base_url": cls.fake.url + "/", "timeout": "5s"}
        # JSON is YAML: the connector files are written with json.dumps so
        # that hostile test strings need no YAML quoting.
        cls.ws.write_connector("rest-test.yaml", connector("rest-test", "etat-civil-citoyennete", base, {
            "echo-path": {
                "parameters": {"id": {"required": True}, "q": {}, "h": {}},
                "request": {"path": "echo/items/{id}", "query": {"q": "{q}", "lit": "a b", "n": 3},
                            "headers": {"X-Value": "value: {h}"}},
            },
            "echo-body": {
                "method": "POST",
                "parameters": {"demand": {"required": True, "pattern": "^[0-9]+$"},
                               "n": {"type": "integer", "default": 7}},
                "body_schema": {"type": "object", "required": ["last_name"],
                                "properties": {"last_name": {"type": "string", "minLength": 1},
                                               "age": {"type": "integer"}}},
                "request": {"method": "POST", "path": "echo/requests/{demand}",
                            "body": {"nom": "{body:/last_name}", "demande": "{demand}", "n": "{n}",
                                     "age": "{body:/age}", "raw": "{body:/}",
                                     "text": "Nom: {body:/last_name}", "literal": "{{demand}}"}},
            },
            "status": {"parameters": {"code": {"type": "integer", "required": True}},
                       "request": {"path": "status/{code}"}},
            "slow": {"request": {"path": "delay/3000"}, "timeout": "300ms"},
            "invalid": {"request": {"path": "invalid-json"}},
            "flaky": {"parameters": {"key": {"required": True}},
                      "request": {"path": "flaky/2/{key}"}, "retries": 2},
            "flaky-once": {"parameters": {"key": {"required": True}},
                           "request": {"path": "flaky/1/{key}"}},
            "geo": {"request": {"path": "json/geo"},
                    "response": {"data": "/features", "list": True,
                                 "fields": {"id": "/properties/id", "text": "/properties/label",
                                            "lat": "/geometry/coordinates/1"}}},
        }))
        cls.ws.write_connector("rest-ref.yaml", connector("rest-ref", "reference", base, {
            "cached": {"personal_data": False, "cache_ttl": "1m",
                       "parameters": {"q": {"required": True}},
                       "request": {"path": "echo/cached", "query": {"q": "{q}"}}},
            "error-body": {"personal_data": False, "error_body": True,
                           "parameters": {"code": {"type": "integer", "required": True}},
                           "request": {"path": "status/{code}"}},
        }))
        cls.ws.write_connector("rest-small.yaml", connector(
            "rest-small", "reference", dict(base, max_response_bytes=1024),
            {"big": {"parameters": {"size": {"type": "integer", "required": True}},
                     "request": {"path": "big/{size}"}}}))
        cls.ws.write_connector("rest-down.yaml", connector(
            "rest-down", "reference",
            {"base_url": f"http://127.0.0.1:{closed_port()}/", "timeout": "2s"}, {"any": {}}))
        auths = {
            "rest-bearer": {"bearer": {"token": "upstream-token-1"}},
            "rest-basic": {"basic": {"username": "relais", "password": "pa:ss word"}},
            "rest-apikey": {"api_key": {"header": "X-API-Key", "value": "key-42"}},
            "rest-oauth": {"oauth2": {"token_url": cls.fake.url + "/oauth/token",
                                      "client_id": DEFAULT_CLIENT_ID,
                                      "client_secret": DEFAULT_CLIENT_SECRET, "scope": "read"}},
        }
        for slug, auth in auths.items():
            path = "protected/x" if slug == "rest-oauth" else "echo/auth"
            cls.ws.write_connector(slug + ".yaml", connector(
                slug, "reference", dict(base, auth=auth), {"call": {"request": {"path": path}}}))
        cls.relais = start_relais(
            cls, ["reference", "etat-civil-citoyennete"],
            ["rest-test", "rest-ref", "rest-small", "rest-down", *auths],
            threads=2, log_level="debug")

    # -- helpers -----------------------------------------------------------

    def get(self, path, params=None, headers=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self.relais.get(path + query, headers=dict(AUTH, **(headers or {})))

    def post(self, path, params=None, body=None, headers=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self.relais.post(path + query, body=body,
                                headers=dict(AUTH, **{"Content-Type": "application/json"},
                                             **(headers or {})))

    def assert_error(self, response, status, err_class):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(body["err"], 1, body)
        self.assertEqual(body["err_class"], err_class, body)
        self.assertIsNone(body["data"])
        return body

    def received(self, path_prefix):
        return self.fake.requests_to(path_prefix)

    # -- escaping: what the upstream receives --------------------------------

    def test_hostile_values_reach_the_upstream_escaped(self):
        hostile_id = "../../etc/passwd?x=1#frag %2e%2e é"
        hostile_q = "a&b=c+d {{x}} \"'<>"
        r = self.get("/rest/rest-test/echo-path",
                     {"id": hostile_id, "q": hostile_q, "h": "quote \" and é"})
        self.assertEqual(r.status, 200, r)
        seen = self.received("/echo/items/")[-1]
        self.assertEqual(seen.raw_path,
                         "/echo/items/..%2F..%2Fetc%2Fpasswd%3Fx%3D1%23frag%20%252e%252e%20%C3%A9"
                         "?q=a%26b%3Dc%2Bd+%7B%7Bx%7D%7D+%22%27%3C%3E&lit=a+b&n=3")
        # One path segment, decoded back to exactly the value sent.
        self.assertEqual(seen.path, "/echo/items/" + hostile_id)
        self.assertEqual(seen.query, [("q", hostile_q), ("lit", "a b"), ("n", "3")])
        self.assertEqual(seen.header("X-Value").encode("latin-1").decode("utf-8"),
                         "value: quote \" and é")
        data = r.json()["data"]
        self.assertEqual(data["method"], "GET")

    def test_long_hostile_values(self):
        # The longest value a parameter accepts by default (max_length 1024
        # bytes) goes through whole and escaped; one byte more is refused
        # before any upstream call.
        longest = ""
        for char in "../{{x}}\"'&=%\u00e9" * 100:
            if len((longest + char).encode()) > 1024:
                break
            longest += char
        longest += "a" * (1024 - len(longest.encode()))
        r = self.get("/rest/rest-test/echo-path", {"id": longest, "q": longest})
        self.assertEqual(r.status, 200, r)
        seen = self.received("/echo/items/")[-1]
        self.assertEqual(seen.path, "/echo/items/" + longest)
        self.assertEqual(seen.query[0], ("q", longest))
        before = len(self.fake.requests)
        for name in ("id", "q"):
            params = {"id": "1", name: longest + "x"}
            body = self.assert_error(self.get("/rest/rest-test/echo-path", params),
                                     400, "invalid-parameter")
            self.assertEqual(body["err_desc"], f"parameter '{name}' is longer than 1024 bytes")
        self.assertEqual(len(self.fake.requests), before)

    def test_absent_optional_values_drop_query_keys_and_headers(self):
        r = self.get("/rest/rest-test/echo-path", {"id": "plain"})
        self.assertEqual(r.status, 200, r)
        seen = self.received("/echo/items/plain")[-1]
        self.assertEqual(seen.raw_path, "/echo/items/plain?lit=a+b&n=3")
        self.assertIsNone(seen.header("X-Value"))

    def test_header_injection_is_refused_before_the_upstream(self):
        before = len(self.fake.requests)
        for value in ["x\r\nX-Injected: 1", "x\ny", "x\x00y"]:
            r = self.get("/rest/rest-test/echo-path", {"id": "1", "h": value})
            body = self.assert_error(r, 400, "invalid-parameter")
            self.assertIn("'h'", body["err_desc"])
            self.assertNotIn("Injected", body["err_desc"])
        self.assertEqual(len(self.fake.requests), before)

    def test_dot_segments_are_refused(self):
        for value in [".", ".."]:
            r = self.get("/rest/rest-test/echo-path", {"id": value})
            self.assert_error(r, 400, "invalid-parameter")

    def test_json_body_is_templated_with_types_and_escaping(self):
        hostile = "Du\"pont\", \"admin\": true, \"x\": \"\\ {demand} \u00e9\n"
        body = {"last_name": hostile, "age": 42, "extra": [1, {"a": None}]}
        r = self.post("/rest/rest-test/echo-body", {"demand": "0042"}, body=body)
        self.assertEqual(r.status, 200, r)
        seen = self.received("/echo/requests/")[-1]
        self.assertEqual(seen.raw_path, "/echo/requests/0042")
        self.assertEqual(seen.header("Content-Type"), "application/json")
        sent = json.loads(seen.body)
        self.assertEqual(sent, {"nom": hostile, "demande": "0042", "n": 7, "age": 42, "raw": body,
                                "text": "Nom: " + hostile, "literal": "{demand}"})

    # -- refusals --------------------------------------------------------------

    def test_missing_parameter(self):
        body = self.assert_error(self.get("/rest/rest-test/echo-path"), 400, "missing-parameter")
        self.assertEqual(body["err_desc"], "missing parameter 'id'")

    def test_pattern_failure_is_invalid_parameter(self):
        r = self.post("/rest/rest-test/echo-body", {"demand": CANARY}, body={"last_name": "x"})
        body = self.assert_error(r, 400, "invalid-parameter")
        self.assertEqual(body["err_desc"], "parameter 'demand' does not match its pattern")

    def test_malformed_json_body(self):
        r = self.post("/rest/rest-test/echo-body", {"demand": "1"}, body='{"last_name": ')
        self.assert_error(r, 400, "invalid-json")

    def test_body_numbers_reach_the_upstream_exactly_or_are_refused(self):
        body = '{"last_name": "x", "age": 18446744073709551615}'
        r = self.post("/rest/rest-test/echo-body", {"demand": "6401"}, body=body)
        self.assertEqual(r.status, 200, r)
        sent = json.loads(self.received("/echo/requests/6401")[-1].body)
        self.assertEqual((sent["age"], sent["raw"]["age"]), (2**64 - 1, 2**64 - 1))
        # Beyond 64 bits (or a double's range) relais would have to round:
        # it refuses instead, and calls no upstream.
        for demand, number in (("6402", "18446744073709551616"), ("6403", "-9223372036854775809"),
                               ("6404", "12345678901234567890123456789"), ("6405", "1e400")):
            with self.subTest(number=number):
                r = self.post("/rest/rest-test/echo-body", {"demand": demand},
                              body='{"last_name": "x", "age": %s}' % number)
                error = self.assert_error(r, 400, "invalid-json")
                self.assertEqual(error["err_desc"],
                                 "the body holds a number relais would have to round (an integer "
                                 "outside 64 bits, or beyond a double's range): send it as a string")
                self.assertEqual(self.received("/echo/requests/" + demand), [])

    def test_body_schema_failure(self):
        r = self.post("/rest/rest-test/echo-body", {"demand": "1"}, body={"last_name": "", "age": 3})
        body = self.assert_error(r, 400, "invalid-body")
        self.assertEqual(body["err_desc"],
                         "the body does not match its schema: 'minLength' failed at /last_name")
        r = self.post("/rest/rest-test/echo-body", {"demand": "1"}, body={"age": CANARY})
        body = self.assert_error(r, 400, "invalid-body")
        self.assertNotIn(CANARY, body["err_desc"])

    def test_trailing_slash_and_extra_path(self):
        self.assertEqual(self.get("/rest/rest-test/geo/").status, 200)
        self.assert_error(self.get("/rest/rest-test/geo/extra"), 404, "not-found")

    def test_wrong_method(self):
        r = self.get("/rest/rest-test/echo-body", {"demand": "1"})
        self.assert_error(r, 405, "method-not-allowed")
        self.assertEqual(r.header("Allow"), "POST")

    # -- upstream failures -------------------------------------------------------

    def test_upstream_down_is_unreachable(self):
        self.assert_error(self.get("/rest/rest-down/any"), 502, "upstream-unreachable")

    def test_slow_upstream_times_out(self):
        body = self.assert_error(self.get("/rest/rest-test/slow"), 504, "upstream-timeout")
        self.assertEqual(body["err_desc"], "the upstream did not answer within 300 ms")

    def test_invalid_json_from_upstream(self):
        self.assert_error(self.get("/rest/rest-test/invalid"), 502, "upstream-invalid-response")

    def test_upstream_answer_too_large(self):
        self.assertEqual(self.get("/rest/rest-small/big", {"size": "1000"}).status, 200)
        self.assert_error(self.get("/rest/rest-small/big", {"size": "5000"}),
                          502, "upstream-invalid-response")

    def test_upstream_error_status_without_its_body(self):
        body = self.assert_error(self.get("/rest/rest-test/status", {"code": "500"}),
                                 502, "upstream-error")
        self.assertEqual(body["err_desc"], "upstream answered 500")
        body = self.assert_error(self.get("/rest/rest-test/status", {"code": "404"}),
                                 502, "upstream-error")
        self.assertIn("404", body["err_desc"])

    def test_upstream_error_body_only_where_allowed(self):
        body = self.assert_error(self.get("/rest/rest-ref/error-body", {"code": "503"}),
                                 502, "upstream-error")
        self.assertEqual(body["err_desc"], 'upstream answered 503: {"status": 503}')

    # -- mapping, cache, retries -------------------------------------------------------

    def test_response_mapping(self):
        r = self.get("/rest/rest-test/geo")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"err": 0, "data": [
            {"id": "75104_1", "text": "8 Boulevard du Palais 75004 Paris", "lat": 48.8534},
            {"id": None, "text": "Rue sans id", "lat": 48.85}]})

    def test_cache_serves_the_second_call(self):
        q = "cache-" + uuid.uuid4().hex
        first = self.get("/rest/rest-ref/cached", {"q": q})
        second = self.get("/rest/rest-ref/cached", {"q": q})
        self.assertEqual(first.status, 200, first)
        self.assertEqual(second.json(), first.json())
        self.assertEqual(len([r for r in self.received("/echo/cached") if ("q", q) in r.query]), 1)
        other = self.get("/rest/rest-ref/cached", {"q": q + "-other"})
        self.assertEqual(other.status, 200, other)
        self.assertEqual(len([r for r in self.received("/echo/cached")
                              if r.query[0][1].startswith(q)]), 2)

    def test_retries_on_a_flaky_upstream(self):
        key = uuid.uuid4().hex
        r = self.get("/rest/rest-test/flaky", {"key": key})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(self.received("/flaky/2/" + key)), 3)
        line = self.relais.wait_for_log(lambda l: l.get("event") == "request"
                                        and l.get("request_id") == r.header("X-Request-ID"))
        self.assertEqual(line["upstream_attempts"], 3)
        self.assertGreater(line["upstream_ms"], 0)
        self.assertLessEqual(line["upstream_ms"], line["duration_ms"])
        key = uuid.uuid4().hex
        body = self.assert_error(self.get("/rest/rest-test/flaky-once", {"key": key}),
                                 502, "upstream-error")
        self.assertEqual(body["err_desc"], "upstream answered 503")
        self.assertEqual(len(self.received("/flaky/1/" + key)), 1)

    # -- upstream authentication and request id ------------------------------------

    def test_bearer_auth(self):
        self.assertEqual(self.get("/rest/rest-bearer/call").status, 200)
        self.assertEqual(self.received("/echo/auth")[-1].header("Authorization"),
                         "Bearer upstream-token-1")

    def test_basic_auth(self):
        self.assertEqual(self.get("/rest/rest-basic/call").status, 200)
        header = self.received("/echo/auth")[-1].header("Authorization")
        self.assertTrue(header.startswith("Basic "), header)
        self.assertEqual(base64.b64decode(header[6:]).decode(), "relais:pa:ss word")

    def test_api_key_auth(self):
        self.assertEqual(self.get("/rest/rest-apikey/call").status, 200)
        self.assertEqual(self.received("/echo/auth")[-1].header("X-API-Key"), "key-42")

    def test_oauth2_token_is_fetched_once(self):
        before = self.fake.stats()["tokens_issued"]
        for _ in range(3):
            r = self.get("/rest/rest-oauth/call")
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.fake.stats()["tokens_issued"] - before, 1)
        self.assertTrue(self.received("/protected/x")[-1].header("Authorization").startswith("Bearer tok"))

    def test_request_id_is_forwarded(self):
        r = self.get("/rest/rest-test/echo-path", {"id": "rid"}, headers={"X-Request-ID": "rid-1234.ab"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.received("/echo/items/rid")[-1].header("X-Request-ID"), "rid-1234.ab")
        r = self.get("/rest/rest-test/echo-path", {"id": "rid2"})
        self.assertEqual(self.received("/echo/items/rid2")[-1].header("X-Request-ID"),
                         r.header("X-Request-ID"))

    # -- privacy ---------------------------------------------------------------------

    def test_personal_values_are_never_logged(self):
        canary = CANARY + "-" + uuid.uuid4().hex
        self.get("/rest/rest-test/echo-path", {"id": canary, "q": canary, "h": canary})
        self.post("/rest/rest-test/echo-body", {"demand": "1"}, body={"last_name": canary})
        self.post("/rest/rest-test/echo-body", {"demand": canary}, body={"last_name": canary})
        self.get("/rest/rest-test/status", {"code": "500", "x": canary})
        # A non-personal endpoint may log its parameters at debug level.
        public = "public-" + uuid.uuid4().hex
        self.get("/rest/rest-ref/cached", {"q": public})
        self.relais.wait_for_log(lambda line: public in line.get("parameters", ""))
        self.assertNotIn(canary.encode(), written_bytes(self.ws))


class RestTlsTest(unittest.TestCase):
    """An https upstream: verified against the connector's ca_file."""

    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeUpstream(tls=True))
        cls.ws = enter(cls.addClassCleanup, Workspace())
        base = {"base_url": cls.fake.url + "/", "timeout": "5s"}
        cls.ws.write_connector("tls-trusted.yaml", connector(
            "tls-trusted", "reference", dict(base, tls={"ca_file": cls.fake.ca_file}),
            {"call": {"request": {"path": "echo/tls"}}}))
        cls.ws.write_connector("tls-untrusted.yaml", connector(
            "tls-untrusted", "reference", base, {"call": {"request": {"path": "echo/tls"}}}))
        cls.relais = start_relais(cls, ["reference"], ["tls-trusted", "tls-untrusted"])

    def test_trusted_ca_file(self):
        r = self.relais.get("/rest/tls-trusted/call", headers=AUTH)
        self.assertEqual(r.status, 200, r)

    def test_unknown_certificate_is_refused(self):
        r = self.relais.get("/rest/tls-untrusted/call", headers=AUTH)
        self.assertEqual(r.status, 502, r)
        self.assertEqual(r.json()["err_class"], "upstream-unreachable")


class RestMutualTlsTest(unittest.TestCase):
    """An https upstream that requires a client certificate (mutual TLS)."""

    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeUpstream(tls=True, require_client_cert=True))
        cls.ws = enter(cls.addClassCleanup, Workspace())
        tls = {"ca_file": cls.fake.ca_file}
        base = {"base_url": cls.fake.url + "/", "timeout": "5s"}
        cls.ws.write_connector("mtls.yaml", connector(
            "mtls", "reference",
            dict(base, tls=dict(tls, client_cert=cls.fake.client_cert_file,
                                client_key=cls.fake.client_key_file)),
            {"call": {"request": {"path": "echo/mtls"}}}))
        cls.ws.write_connector("mtls-no-cert.yaml", connector(
            "mtls-no-cert", "reference", dict(base, tls=tls),
            {"call": {"request": {"path": "echo/mtls"}}}))
        cls.relais = start_relais(cls, ["reference"], ["mtls", "mtls-no-cert"])

    def test_client_certificate_is_presented(self):
        r = self.relais.get("/rest/mtls/call", headers=AUTH)
        self.assertEqual(r.status, 200, r)
        # A second call reuses the certificate held in memory.
        self.assertEqual(self.relais.get("/rest/mtls/call", headers=AUTH).status, 200)

    def test_without_a_client_certificate_the_upstream_refuses(self):
        r = self.relais.get("/rest/mtls-no-cert/call", headers=AUTH)
        self.assertEqual(r.status, 502, r)
        self.assertEqual(r.json()["err_class"], "upstream-unreachable")


class DemoConnectorsTest(unittest.TestCase):
    """The shipped connectors/demo-*.yaml load and check their input (their
    upstreams are not needed: every call here is refused before them)."""

    @classmethod
    def setUpClass(cls):
        cls.ws = enter(cls.addClassCleanup, Workspace())
        for name in ("demo-adresses.yaml", "demo-etat-civil.yaml"):
            with open(os.path.join(SOURCE_DIR, "connectors", name), encoding="utf-8") as f:
                cls.ws.write_connector(name, f.read())
        cls.relais = start_relais(cls, ["reference", "etat-civil-citoyennete"],
                                  ["demo-adresses", "demo-etat-civil"])

    def test_address_search_checks_its_parameters(self):
        r = self.relais.get("/rest/demo-adresses/search?zipcode=75001", headers=AUTH)
        self.assertEqual((r.status, r.json()["err_class"]), (400, "missing-parameter"))
        r = self.relais.get("/rest/demo-adresses/reverse?lat=91&lon=2", headers=AUTH)
        self.assertEqual((r.status, r.json()["err_class"]), (400, "invalid-parameter"))

    def test_birth_certificate_request_checks_its_body(self):
        path = "/rest/demo-etat-civil/birth-certificate-request?demand_id=12"
        r = self.relais.post(path, body={"first_name": "Jean"}, headers=AUTH)
        self.assertEqual((r.status, r.json()["err_class"]), (400, "invalid-body"))
        r = self.relais.get(path, headers=AUTH)
        self.assertEqual((r.status, r.json()["err_class"]), (405, "method-not-allowed"))


if __name__ == "__main__":
    unittest.main()
