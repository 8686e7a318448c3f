"""The `xml` connector kind through the real relais binary, against the
fake upstream serving canned XML: mapping with XPath, hostile values as the
upstream parses them, hardened reading of hostile answers (billion laughs,
an external entity naming a local file, 10,000-deep nesting, a 50 MB
attribute), upstream failures, async pushes and what is (not) written."""
import json
import os
import socket
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from async_relais import (FAST_DELIVERY, QUICK_OUTBOX, Caller, DeliveryTestMixin, apikey_client,
                          relais_config)
from fake_upstream import FakeUpstream
import relais_harness
from relais_harness import Workspace, enter, written_bytes

API_KEY = "xml-integration-key"
CANARY = "CANARY-XML-51d9"
FILE_CANARY = "FILE-CANARY-0e4b"
NS = "urn:example:cadastre"

PARCELS = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>'
    '<p:parcels xmlns:p="urn:example:cadastre">'
    '<p:parcel code="A1"><p:id>42</p:id><p:area>12.5</p:area>'
    '<p:owner>Ren\xe9</p:owner><p:owner>Zo\xe9</p:owner></p:parcel>'
    '<p:parcel code="B"><p:id>43</p:id></p:parcel></p:parcels>').encode("latin-1")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nested(depth):
    return "<a>" * depth + "</a>" * depth


class XmlConnectorTest(DeliveryTestMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeUpstream())
        cls.ws = enter(cls.addClassCleanup, Workspace())
        secret_file = os.path.join(cls.ws.root, "secret.txt")
        with open(secret_file, "w") as f:
            f.write(FILE_CANARY)
        xml_headers = {"Content-Type": "text/xml"}
        canned = {
            "parcels": PARCELS,
            "laughs": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      '<!ENTITY l2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                      '<!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">'
                      '<!ENTITY l4 "&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;">]><r>&l4;</r>',
            "xxe": f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_file}">]>'
                   '<r>&x;</r>',
            "deep": nested(10_000),
            "huge-attribute": '<r a="' + "x" * (50 * 1024 * 1024) + '"/>',
            "many-attributes": '<root xmlns:a="urn:z"'
                               + "".join(f' xmlns:p{i}="urn:p{i}"' for i in range(120_000))
                               + "".join(f' a:k{i}=""' for i in range(120_000)) + "/>",
            # Split at its first colon, x:c:parcel read as the connector's c:parcel.
            "forged": '<p:parcels xmlns:p="urn:example:cadastre" xmlns:x="urn:evil">'
                      '<x:c:parcel code="A1"><p:id>1</p:id></x:c:parcel></p:parcels>',
            "not-xml": "this is not XML <",
            # Well-formed UTF-8, but U+FFFF is no XML character.
            "noncharacter": '<?xml version="1.0" encoding="UTF-8"?><r>PC-1 \uffff</r>'.encode(),
            "received": "<ok/>",
        }
        for name, body in canned.items():
            cls.fake.routes["/json/" + name] = (200, xml_headers, body)
        cls.fake.routes["/json/html-error"] = (
            503, {"Content-Type": "text/html"}, "<html><body>Service Unavailable</body></html>")
        base = {"base_url": cls.fake.url + "/", "timeout": "5s"}
        endpoints = {
            "parcels": {"parameters": {"owner": {}},
                        "request": {"path": "json/parcels"},
                        "response": {"data": "/c:parcels/c:parcel", "list": True,
                                     "fields": {"id": "c:id", "code": "@code",
                                                "area": {"xpath": "c:area", "type": "number"},
                                                "owners": {"xpath": "c:owner", "list": True}}}},
            "whole": {"request": {"path": "json/parcels"}},
            "forged": {"request": {"path": "json/forged"},
                       "response": {"data": "/c:parcels/c:parcel", "list": True}},
            "echo": {"method": "POST",
                     "parameters": {"v": {"max_length": 65536}, "w": {}},
                     "request": {"method": "POST", "path": "json/received",
                                 "body": '<c:demande ref="{v}"><c:valeur>{v}</c:valeur>'
                                         '<c:nom>{body:/nom}</c:nom><c:opt>{w}</c:opt></c:demande>'}},
            "push": {"method": "POST", "async": True,
                     "request": {"method": "POST", "path": "json/received",
                                 "body": "<c:demande><c:nom>{body:/nom}</c:nom></c:demande>"}},
            "slow": {"request": {"path": "delay/3000"}, "timeout": "300ms"},
        }
        for name in ("laughs", "xxe", "deep", "huge-attribute", "many-attributes", "not-xml",
                     "noncharacter", "html-error"):
            endpoints[name] = {"request": {"path": "json/" + name}}
        cls.ws.write_connector("cadastre.yaml", json.dumps({
            "slug": "cadastre", "kind": "xml", "family": "economie-urbanisme", "upstream": base,
            "namespaces": {"c": NS}, "delivery": FAST_DELIVERY, "endpoints": endpoints}))
        cls.ws.write_connector("down.yaml", json.dumps({
            "slug": "down", "kind": "xml", "family": "economie-urbanisme",
            "upstream": {"base_url": f"http://127.0.0.1:{closed_port()}/", "timeout": "2s"},
            "endpoints": {"any": {}}}))
        cls.ws.write_config(relais_config(
            {"tester": apikey_client(API_KEY, ["economie-urbanisme"],
                                     {"cadastre": "*", "down": "*"})},
            outbox=QUICK_OUTBOX, log_level="debug"))
        cls.relais = relais_harness.start_relais(cls.addClassCleanup, cls.ws)
        cls.caller = Caller(cls.relais, API_KEY)

    def get(self, endpoint, params=None):
        return self.caller.get("/xml/cadastre/" + endpoint, params)

    def assert_refused_answer(self, endpoint, reason):
        """The upstream's answer to `endpoint` is refused for `reason` (part of
        err_desc); returns the response."""
        r = self.get(endpoint)
        self.assert_error(r, 502, "upstream-invalid-response")
        self.assertIn(reason, r.json()["err_desc"])
        return r

    def test_answers_are_mapped_with_xpath_whatever_the_prefixes_and_encoding(self):
        r = self.get("parcels")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"], [
            {"id": "42", "code": "A1", "area": 12.5, "owners": ["René", "Zoé"]},
            {"id": "43", "code": "B", "area": None, "owners": []}])
        seen = self.fake.requests_to("/json/parcels")[-1]
        self.assertEqual(seen.header("accept"), "application/xml, text/xml")
        whole = self.get("whole").json()["data"]
        self.assertEqual(whole["c:parcel"][0]["c:owner"], ["René", "Zoé"])

    def test_hostile_values_reach_the_upstream_as_text(self):
        for hostile in ("</c:valeur><c:admin>1</c:admin>", "\"'<>&amp;", "]]>",
                        "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>&x;",
                        "{{w}} {w}", "../../etc/passwd", "line\r\nX-Injected: 1", "é" * 2_000):
            r = self.caller.post("/xml/cadastre/echo", {"nom": hostile}, {"v": hostile})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["data"], "")
            seen = self.fake.requests_to("/json/received")[-1]
            self.assertEqual(seen.header("content-type"), "application/xml; charset=utf-8")
            root = ET.fromstring(seen.body)
            self.assertEqual(root.tag, "{%s}demande" % NS)
            self.assertEqual([child.tag for child in root],
                             ["{%s}valeur" % NS, "{%s}nom" % NS])
            self.assertEqual(root.get("ref"), hostile)
            self.assertEqual(root.find("{%s}valeur" % NS).text, hostile)
            self.assertEqual(root.find("{%s}nom" % NS).text, hostile)

    def test_values_xml_cannot_carry_are_refused_before_the_upstream(self):
        before = len(self.fake.requests_to("/json/received"))
        r = self.caller.post("/xml/cadastre/echo", {"nom": "a"}, {"v": "bell\x07"})
        self.assert_error(r, 400, "invalid-parameter")
        # U+FFFE and U+FFFF are UTF-8, and no XML characters.
        for noncharacter in ("\uffff", "a\ufffeb"):
            r = self.caller.post("/xml/cadastre/echo", {"nom": "a"}, {"v": noncharacter})
            self.assert_error(r, 400, "invalid-parameter")
            r = self.caller.post("/xml/cadastre/echo", {"nom": noncharacter}, {"v": "a"})
            self.assert_error(r, 400, "invalid-body")
        r = self.caller.post("/xml/cadastre/echo", {"nom": {"an": "object"}}, {"v": "x"})
        self.assert_error(r, 400, "invalid-body")
        self.assertEqual(len(self.fake.requests_to("/json/received")), before)

    def test_billion_laughs_is_refused_without_expansion(self):
        r = self.assert_refused_answer("laughs", "document type declaration")
        self.assertNotIn("lol", r.json()["err_desc"])

    def test_external_entity_to_a_local_file_is_never_read(self):
        r = self.get("xxe")
        self.assert_error(r, 502, "upstream-invalid-response")
        self.assertNotIn(FILE_CANARY, r.body.decode())
        self.assertEqual(written_bytes(self.ws).count(FILE_CANARY.encode()), 1,
                         "only the planted file holds it")

    def test_ten_thousand_deep_nesting_is_refused(self):
        self.assert_refused_answer("deep", "nested deeper than 256")

    def test_fifty_megabyte_attribute_is_refused_by_the_answer_limit(self):
        self.assert_refused_answer("huge-attribute", "larger than")
        self.assertEqual(self.relais.get("/_relais/health").status, 200)

    def test_an_element_with_240_000_attributes_is_refused_at_once(self):
        started = time.monotonic()
        self.assert_refused_answer("many-attributes", "an element declares more than 64 namespaces")
        # Reading its names took 35 s of an I/O thread.
        self.assertLess(time.monotonic() - started, 3)

    def test_a_noncharacter_in_an_answer_is_refused(self):
        self.assert_refused_answer("noncharacter", "a character XML does not allow (U+FFFE or U+FFFF)")

    def test_a_name_with_two_colons_is_refused(self):
        self.assert_refused_answer("forged", "more than one colon")

    def test_upstream_failures(self):
        r = self.get("html-error")
        self.assert_error(r, 502, "upstream-error")
        self.assertEqual(r.json()["err_desc"], "upstream answered 503")
        self.assert_error(self.get("not-xml"), 502, "upstream-invalid-response")
        self.assert_error(self.get("slow"), 504, "upstream-timeout")
        self.assert_error(self.caller.get("/xml/down/any"), 502, "upstream-unreachable")

    def test_async_push_is_delivered_as_xml(self):
        r = self.caller.post("/xml/cadastre/push", {"nom": "Zoé <3"})
        self.assertEqual(r.status, 202, r)
        tracking_id = r.json()["data"]["tracking_id"]
        self.caller.wait_state(tracking_id, "delivered")
        seen = self.fake.requests_to("/json/received")[-1]
        self.assertEqual(seen.header("idempotency-key"), tracking_id)
        self.assertEqual(ET.fromstring(seen.body).find("{%s}nom" % NS).text, "Zoé <3")

    def test_personal_values_are_never_written(self):
        r = self.caller.post("/xml/cadastre/echo", {"nom": CANARY}, {"v": CANARY})
        self.assertEqual(r.status, 200, r)
        r = self.caller.post("/xml/cadastre/push", {"nom": CANARY})
        self.caller.wait_state(r.json()["data"]["tracking_id"], "delivered")
        self.assertNotIn(CANARY.encode(), written_bytes(self.ws))


if __name__ == "__main__":
    unittest.main()
