"""relais's SOAP service through the real binary (docs/soap-service.md):
envelopes written by hand (tests/support/soap_calls.py) over SOAP 1.1 and
1.2, against a fake w.c.s. that checks the Publik signature of every
submission and trigger. Round trips, idempotency, every error class as a
fault (code, errorClass, HTTP status), authentication by API key, Basic and
WS-Security UsernameToken, the WSDL's address, malformed envelopes and
hostile XML."""
import datetime
import os
import time
import unittest
import uuid

from async_relais import TRACKING_ID
from relais_harness import memory_bounds_apply, peak_memory_kib, poll_until, written_bytes
from soap_calls import (PING, SOAP11, SOAP12, SoapCaller, create_demand, created_now, envelope,
                        read_answer, report_status, username_token)
from soap_workspace import (APP_PASSWORD, APP_USER, FAR_PASSWORD, FAR_USER, NO_SOAP_KEY,
                            NO_STATUS_KEY, VOIRIE, basic, start_workspace)

class SoapCase(unittest.TestCase):
    def assert_fault(self, answer, status, error_class, version=SOAP11):
        self.assertEqual(answer.operation, "Fault", answer)
        self.assertEqual((answer.status, answer.error_class), (status, error_class), answer)
        self.assertEqual(answer.version, version, answer)
        sender = {SOAP11: "Client", SOAP12: "Sender"}[version]
        receiver = {SOAP11: "Server", SOAP12: "Receiver"}[version]
        self.assertEqual(answer.fault_code, sender if status < 500 else receiver, answer)
        self.assertTrue(answer.fault_string, answer)

    def assert_tracked(self, answer, version=SOAP11):
        self.assertEqual((answer.status, answer.version), (200, version), answer)
        self.assertRegex(answer.values["trackingId"], TRACKING_ID)
        expected = {SOAP11: "text/xml; charset=utf-8",
                    SOAP12: "application/soap+xml; charset=utf-8"}[version]
        self.assertEqual(answer.content_type, expected)
        return answer.values["trackingId"]


class SoapServiceTest(SoapCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs, cls.ws, cls.relais = start_workspace(cls.addClassCleanup)
        cls.app = SoapCaller(cls.relais, VOIRIE, basic(APP_USER, APP_PASSWORD))

    def tearDown(self):
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")

    def open_demand(self, version=SOAP11, **fields):
        """A demand opened through CreateDemand and created by w.c.s.;
        returns (reference, its w.c.s. submission)."""
        reference = "SIG-" + uuid.uuid4().hex[:12]
        fields = fields or {"adresse": "1 rue de la Paix", "description": "nid de poule"}
        answer = self.app.call(create_demand(reference, fields), version)
        tracking_id = self.assert_tracked(answer, version)
        submission = poll_until(
            lambda: [s for s in self.wcs.submissions_to("signalement-voirie", 200)
                     if s.headers["idempotency-key"] == tracking_id], 20,
            message="w.c.s. never got the demand")[0]
        return reference, submission

    def report(self, reference, status, version=SOAP11, **extra):
        """A report that must be accepted: the correlation is recorded once
        w.c.s.'s answer is read, a moment after the submission."""
        def sent():
            answer = self.app.call(report_status(reference, status, **extra), version)
            return answer if answer.error_class != "unknown-reference" else None
        return poll_until(sent, 10, message="the correlation was never recorded")

    # -- the operations ---------------------------------------------------------

    def test_ping_in_both_versions(self):
        for version, content_type in ((SOAP11, "text/xml; charset=utf-8"),
                                      (SOAP12, "application/soap+xml; charset=utf-8")):
            with self.subTest(version=version):
                answer = self.app.call(PING, version)
                self.assertEqual((answer.status, answer.operation, answer.version),
                                 (200, "PingResponse", version), answer)
                self.assertEqual(answer.content_type, content_type)
                self.assertRegex(answer.values["version"], r"^\d+\.\d+\.\d+")

    def test_create_demand_then_report_its_status(self):
        for version in (SOAP11, SOAP12):
            with self.subTest(version=version):
                reference, submission = self.open_demand(
                    version, adresse="2 place de l'Hôtel de Ville", telephone="0102030405")
                self.assertEqual(submission.json(), {
                    "data": {"adresse": "2 place de l'Hôtel de Ville", "telephone": "0102030405"},
                    "context": {"channel": "web"}})
                form_url = submission.answer["data"]["url"]
                other = SOAP12 if version == SOAP11 else SOAP11
                answer = self.report(reference, "received", other, message="Pris en compte",
                                     fields={"comment": "équipe 3"})
                self.assert_tracked(answer, other)
                (trigger,) = poll_until(lambda: self.wcs.triggers_on(form_url), 20)
                self.assertEqual(trigger.trigger, "recu")
                self.assertEqual(trigger.json(), {"reference": reference, "status": "received",
                                                  "message": "Pris en compte",
                                                  "comment": "équipe 3"})

    def test_calls_are_idempotent(self):
        reference, submission = self.open_demand()
        again = self.app.call(create_demand(reference, {"adresse": "ailleurs"}))
        self.assertEqual(self.assert_tracked(again), submission.headers["idempotency-key"])
        self.assertEqual(len([s for s in self.wcs.submissions
                              if s.headers["idempotency-key"]
                              == submission.headers["idempotency-key"]]), 1)
        first = self.assert_tracked(self.report(reference, "received"))
        self.assertEqual(self.assert_tracked(self.app.call(report_status(reference, "received"),
                                                           SOAP12), SOAP12), first)
        # Idempotency-Key works as on the REST route.
        key = {"Idempotency-Key": "soap-" + uuid.uuid4().hex}
        keyed = self.assert_tracked(self.app.call(report_status(reference, "done"), headers=key))
        self.assertEqual(self.assert_tracked(self.app.call(report_status(reference, "done"),
                                                           headers=key)), keyed)
        form_url = submission.answer["data"]["url"]
        poll_until(lambda: len(self.wcs.triggers_on(form_url)) >= 2, 20)
        self.assertEqual([t.trigger for t in self.wcs.triggers_on(form_url)], ["recu", "fini"])

    def test_rest_and_soap_share_their_demands(self):
        reference = "REST-" + uuid.uuid4().hex[:12]
        r = self.relais.post("/rest/voirie/demands", {"reference": reference,
                                                      "fields": {"adresse": "rue"}},
                             headers=basic(APP_USER, APP_PASSWORD))
        self.assertEqual(r.status, 202, r)
        answer = self.app.call(create_demand(reference, {"adresse": "rue"}))
        self.assertEqual(self.assert_tracked(answer), r.json()["data"]["tracking_id"])

    # -- every error class as a fault --------------------------------------------

    def test_refusals_of_the_operations(self):
        reference, _ = self.open_demand()
        self.report(reference, "received")
        cases = [
            (report_status("UNKNOWN-" + uuid.uuid4().hex, "received"), 404, "unknown-reference"),
            (report_status(reference, "lost"), 400, "unknown-status"),
            (report_status(None, "received"), 400, "missing-parameter"),
            (report_status(reference, ""), 400, "missing-parameter"),
            (report_status("x" * 257, "received"), 400, "invalid-parameter"),
            (report_status(reference, "received", fields={"undeclared": "x"}), 400,
             "invalid-parameter"),
            (create_demand(None, {"adresse": "a", "undeclared": "b"}), 400, "invalid-parameter"),
            (create_demand("bad\treference", {"adresse": "a"}), 400, "invalid-parameter"),
            (create_demand(None, {"adresse": "a"}).replace(
                "</r:CreateDemand>",
                "<r:field><r:name>adresse</r:name><r:value>b</r:value></r:field>"
                "</r:CreateDemand>"), 400, "invalid-parameter"),
            ("<r:Delete/>", 400, "unknown-operation"),
        ]
        for body, status, error_class in cases:
            for version in (SOAP11, SOAP12):
                with self.subTest(body=body[:60], version=version):
                    self.assert_fault(self.app.call(body, version), status, error_class, version)

    def test_refusals_before_the_operation(self):
        def caller(headers):
            return SoapCaller(self.relais, VOIRIE, headers)
        for version in (SOAP11, SOAP12):
            with self.subTest(version=version):
                self.assert_fault(caller({}).call(PING, version), 401, "missing-credentials",
                                  version)
                self.assert_fault(caller(basic(APP_USER, "wrong")).call(PING, version), 403,
                                  "invalid-credentials", version)
                self.assert_fault(caller(basic(FAR_USER, FAR_PASSWORD)).call(PING, version), 403,
                                  "address-not-allowed", version)
                no_soap = caller({"Authorization": "Bearer " + NO_SOAP_KEY})
                self.assert_fault(no_soap.call(PING, version), 403, "not-granted", version)
                no_status = caller({"Authorization": "Bearer " + NO_STATUS_KEY})
                self.assert_fault(no_status.call(report_status("R", "received"), version), 403,
                                  "not-granted", version)
                self.assert_tracked(no_status.call(create_demand(None, {"adresse": "a"}),
                                                   version), version)
                self.assert_fault(self.app.call(report_status("R", "received"), version,
                                                path="/rest/voirie-demands/soap"),
                                  404, "not-found", version)
                for path in ("/rest/nowhere/soap", "/rest/plain/soap", "/rest/voirie/soap/x"):
                    self.assert_fault(self.app.call(PING, version, path=path), 404, "not-found",
                                      version)
        # Anything else than POST, but GET ?wsdl.
        for method in ("GET", "PUT", "DELETE"):
            r = self.relais.request(method, VOIRIE, headers=basic(APP_USER, APP_PASSWORD))
            self.assert_fault(read_answer(r), 405, "method-not-allowed")

    def test_faults_quote_no_value_of_the_call(self):
        canary = "CANARY-" + uuid.uuid4().hex
        for body in (report_status(canary, canary, canary, {canary: canary}),
                     create_demand(canary, {canary: canary}),
                     f"<r:{canary.replace('-', '')}/>", f"<r:Ping>{canary}<r:Ping>"):
            r = self.app.post_raw(envelope(body))
            self.assertEqual(r.status // 100, 4, r)
            self.assertNotIn(canary.encode(), r.body)
            self.assertNotIn(canary.replace("-", "").encode(), r.body)

    # -- authentication ------------------------------------------------------------

    def test_every_way_to_authenticate(self):
        token = SoapCaller(self.relais, VOIRIE)
        ways = {
            "bearer": (SoapCaller(self.relais, VOIRIE, {"Authorization": "Bearer " + NO_STATUS_KEY}),
                       lambda: ""),
            "apikey": (SoapCaller(self.relais, VOIRIE + "?apikey=" + NO_STATUS_KEY), lambda: ""),
            "basic": (self.app, lambda: ""),
            "text": (token, lambda: username_token(APP_USER, APP_PASSWORD)),
            "digest": (token, lambda: username_token(APP_USER, APP_PASSWORD, digest=True)),
        }
        for name, (caller, header) in ways.items():
            for version in (SOAP11, SOAP12):
                with self.subTest(name=name, version=version):
                    answer = caller.call(PING, version, header())
                    self.assertEqual((answer.status, answer.operation), (200, "PingResponse"),
                                     answer)
                    self.assertEqual(answer.version, version)
        # The log names the client, never the user name sent.
        line = self.relais.wait_for_log(lambda l: l.get("event") == "request"
                                        and l.get("endpoint") == "soap"
                                        and l.get("client") == "voirie-app")
        self.assertEqual((line["kind"], line["connector"]), ("rest", "voirie"))

    def test_username_token_refusals(self):
        token = SoapCaller(self.relais, VOIRIE)
        nonce = os.urandom(16)
        created = created_now()
        replayed = username_token(APP_USER, APP_PASSWORD, digest=True, nonce=nonce,
                                  created=created)
        self.assertEqual(token.call(PING, SOAP11, replayed).status, 200)
        for version in (SOAP11, SOAP12):
            with self.subTest(version=version):
                self.assert_fault(token.call(PING, version, replayed), 403, "replayed-nonce",
                                  version)
                self.assert_fault(token.call(PING, version, username_token(
                    APP_USER, "wrong", digest=True)), 403, "invalid-credentials", version)
                self.assert_fault(token.call(PING, version, username_token(
                    APP_USER, "wrong")), 403, "invalid-credentials", version)
                self.assert_fault(token.call(PING, version, username_token(
                    "nobody", APP_PASSWORD, digest=True)), 403, "invalid-credentials", version)
                stale = username_token(APP_USER, APP_PASSWORD, digest=True,
                                       created=created_now(-datetime.timedelta(minutes=6)))
                self.assert_fault(token.call(PING, version, stale), 403, "expired-signature",
                                  version)
                future = username_token(APP_USER, APP_PASSWORD, digest=True,
                                        created=created_now(datetime.timedelta(minutes=6)))
                self.assert_fault(token.call(PING, version, future), 403, "expired-signature",
                                  version)
                self.assert_fault(token.call(PING, version, username_token(
                    FAR_USER, FAR_PASSWORD, digest=True)), 403, "address-not-allowed", version)
                # HTTP credentials come first: a token beside them is not read.
                self.assertEqual(self.app.call(PING, version, username_token("nobody", "x"))
                                 .status, 200)

    # -- the WSDL ---------------------------------------------------------------------

    def test_wsdl_gives_this_url(self):
        auth = basic(APP_USER, APP_PASSWORD)
        for query in ("?wsdl", "?WSDL", "/?wsdl"):
            r = self.relais.get(VOIRIE + query, headers=auth)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("content-type"), "text/xml; charset=utf-8")
            address = f'location="http://127.0.0.1:{self.relais.port}/rest/voirie/soap"'
            self.assertEqual(r.body.decode().count(address), 2, r.body[-600:])
        with_host = self.relais.get(VOIRIE + "?wsdl", headers=dict(auth, Host="relais.test:8443"))
        self.assertIn(b'location="http://relais.test:8443/rest/voirie/soap"', with_host.body)
        self.assert_fault(read_answer(self.relais.get(VOIRIE + "?wsdl",
                                                      headers=dict(auth, Host='a"><b'))),
                          400, "bad-request")
        self.assert_fault(read_answer(self.relais.get(VOIRIE + "?wsdl")), 401,
                          "missing-credentials")
        self.assert_fault(read_answer(self.relais.get(
            VOIRIE + "?wsdl", headers={"Authorization": "Bearer " + NO_SOAP_KEY})),
            403, "not-granted")

    # -- malformed and hostile envelopes -------------------------------------------

    def test_malformed_envelopes(self):
        cases = [
            ("not xml at all", SOAP11, 400, "invalid-xml"),
            ("<r:Ping xmlns:r='urn:relais:gru:1'/>", SOAP11, 400, "invalid-xml"),
            ("<html><body>hello</body></html>", SOAP12, 400, "invalid-xml"),
            (envelope(PING).replace(SOAP11, "urn:not-soap"), SOAP11, 400, "invalid-xml"),
            (envelope("<r:Ping>", SOAP12), SOAP12, 400, "invalid-xml"),
            (envelope("<r:Unknown/>", SOAP12), SOAP12, 400, "unknown-operation"),
            (envelope(report_status(None, "received"), SOAP12), SOAP12, 400, "missing-parameter"),
            (envelope(PING, header="<x:T xmlns:x='urn:x' s:mustUnderstand='1'/>"), SOAP11,
             400, "invalid-xml"),
            ("", SOAP11, 400, "invalid-xml"),
            # References gSOAP would decode into text that is not UTF-8, cut
            # short or turn into other bytes; junk after the envelope.
            (envelope(report_status("R-1", "received").replace("R-1", "a&#xD800;b")), SOAP11, 400, "invalid-xml"),
            (envelope(report_status("R-1", "received").replace("R-1", "a&#0;b")), SOAP11, 400, "invalid-xml"),
            (envelope(report_status("R-1", "received").replace("R-1", "a&unknown;b")), SOAP12, 400, "invalid-xml"),
            (envelope(report_status("R-1", "received").replace("R-1", "a&#1;b")), SOAP11, 400, "invalid-xml"),
            # U+FFFE and U+FFFF: UTF-8, and no XML characters.
            (envelope(report_status("R-1", "received").replace("R-1", "a\uffffb")), SOAP11, 400, "invalid-xml"),
            (envelope(create_demand("R-1", {"a": "\ufffe"})), SOAP12, 400, "invalid-xml"),
            (envelope(PING) + "<!-- never closed", SOAP11, 400, "invalid-xml"),
        ]
        for body, version, status, error_class in cases:
            with self.subTest(body=body[:80]):
                answer = read_answer(self.app.post_raw(body, version))
                self.assert_fault(answer, status, error_class, version)
        self.assertEqual(self.app.call(PING).status, 200)

    def test_an_encoding_other_than_utf8_is_refused(self):
        # gSOAP decoded each byte as Latin-1: "é" arrived as "Ã©".
        for declared in ("ISO-8859-1", "latin1", "UTF-16"):
            with self.subTest(declared=declared):
                body = envelope(report_status("R-1", "received", message="é" * 10)).replace(
                    'encoding="UTF-8"', f'encoding="{declared}"', 1)
                answer = read_answer(self.app.post_raw(body))
                self.assert_fault(answer, 400, "invalid-xml")
                self.assertEqual(answer.fault_string,
                                 "the XML declaration names an encoding other than UTF-8")
        self.assertEqual(self.app.call(PING).status, 200)

    def test_billion_laughs(self):
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
            for i in range(1, 10))
        body = (f'<?xml version="1.0"?>\n<!DOCTYPE s:Envelope [{entities}]>\n'
                + envelope(report_status("&lol9;", "received")).split("\n", 1)[1])
        for version in (SOAP11, SOAP12):
            answer = read_answer(self.app.post_raw(body.replace(SOAP11, version), version))
            self.assert_fault(answer, 400, "invalid-xml", version)
            self.assertIn("DTD", answer.fault_string)
        self.assertEqual(self.app.call(PING).status, 200)

    def test_external_entity_to_a_local_file(self):
        canary = "CANARY-FILE-" + uuid.uuid4().hex
        secret = self.ws.write("secret.txt", canary + "\n")
        for kind in ("SYSTEM", "PUBLIC 'x'"):
            body = (f'<?xml version="1.0"?>\n<!DOCTYPE s:Envelope [<!ENTITY xxe {kind} '
                    f'"file://{secret}">]>\n'
                    + envelope(report_status("&xxe;", "received")).split("\n", 1)[1])
            r = self.app.post_raw(body)
            self.assert_fault(read_answer(r), 400, "invalid-xml")
            self.assertNotIn(canary.encode(), r.body)
        self.assertEqual(self.app.call(PING).status, 200)
        with open(secret, "rb") as f:
            planted = f.read()
        written = written_bytes(self.ws).replace(planted, b"")
        self.assertNotIn(canary.encode(), written)

    def test_ten_thousand_levels(self):
        deep = "<a>" * 10_000 + "</a>" * 10_000
        for body in (envelope(deep), envelope(report_status("R", "received").replace(
                "</r:ReportStatus>", deep + "</r:ReportStatus>"), SOAP12),
                envelope(PING, header=deep)):
            version = SOAP12 if SOAP12 in body else SOAP11
            answer = read_answer(self.app.post_raw(body, version))
            self.assert_fault(answer, 400, "invalid-xml", version)
            self.assertIn("deeper", answer.fault_string)
        self.assertEqual(self.app.call(PING).status, 200)

    def test_fifty_megabyte_attribute_is_too_large(self):
        body = envelope(f'<r:Ping a="{"A" * 50_000_000}"/>', SOAP12)
        answer = read_answer(self.app.post_large(body, SOAP12))
        self.assert_fault(answer, 413, "payload-too-large", SOAP12)
        self.assertEqual(self.app.call(PING).status, 200)

    def test_eighty_thousand_attributes_are_refused_before_authentication(self):
        attributes = " ".join(f'a{i}=""' for i in range(80_000))
        body = envelope(PING).replace("<s:Envelope ", f"<s:Envelope {attributes} ", 1)
        # gSOAP took 9.6 s to read them, in search of a UsernameToken.
        started = time.monotonic()
        answer = read_answer(SoapCaller(self.relais, VOIRIE).post_raw(body))
        self.assertLess(time.monotonic() - started, 2)
        self.assert_fault(answer, 401, "missing-credentials")
        answer = read_answer(self.app.post_raw(body))
        self.assert_fault(answer, 400, "invalid-xml")
        self.assertEqual(answer.fault_string, "an element has more attributes than the limit")
        self.assertEqual(self.app.call(PING).status, 200)


class ManyElementsTest(SoapCase):
    """gSOAP allocates every element it reads, before relais counts the
    fields: an envelope of a million elements is refused unread."""

    # The 9.5 MB body itself, read and held once; gSOAP's elements took
    # 126 MB more.
    GROWTH_KIB = 32 * 1024

    def test_a_million_fields_are_refused_before_they_are_read(self):
        _, _, relais = start_workspace(self.addCleanup)
        app = SoapCaller(relais, VOIRIE, basic(APP_USER, APP_PASSWORD))
        self.assertEqual(app.call(PING).status, 200)
        baseline = peak_memory_kib(relais.proc.pid)
        body = envelope("<r:CreateDemand>" + "<r:field/>" * 1_000_000 + "</r:CreateDemand>")
        self.assertLess(len(body), 10 * 1024 * 1024)
        self.assert_fault(read_answer(SoapCaller(relais, VOIRIE).post_raw(body)), 401,
                          "missing-credentials")
        answer = read_answer(app.post_raw(body))
        self.assert_fault(answer, 400, "invalid-xml")
        self.assertEqual(answer.fault_string, "the message holds more elements than the limit")
        if memory_bounds_apply():
            self.assertLess(peak_memory_kib(relais.proc.pid) - baseline, self.GROWTH_KIB)

class LargeBodiesTest(SoapCase):
    """With a body limit above 50 MB, the XML reader's own limits refuse."""

    def test_fifty_megabyte_attribute_is_refused_by_the_reader(self):
        _, _, relais = start_workspace(self.addCleanup, server={
            "limits": {"body_bytes": 64 * 1024 * 1024},
            "public_url": "https://relais.example.org/gru"})
        app = SoapCaller(relais, VOIRIE, basic(APP_USER, APP_PASSWORD))
        for version in (SOAP11, SOAP12):
            body = envelope(f'<r:Ping a="{"A" * 50_000_000}"/>', version)
            answer = read_answer(app.post_large(body, version))
            self.assert_fault(answer, 400, "invalid-xml", version)
            self.assertIn("attribute", answer.fault_string)
            long_text = envelope(report_status("B" * 100_000, "received"), version)
            self.assert_fault(read_answer(app.post_raw(long_text, version)), 400, "invalid-xml",
                              version)
        self.assertEqual(app.call(PING).status, 200)
        # server.public_url gives the WSDL's address, whatever the Host.
        r = relais.get(VOIRIE + "?wsdl", headers=dict(basic(APP_USER, APP_PASSWORD),
                                                      Host="elsewhere.example"))
        self.assertEqual(r.body.count(b'location="https://relais.example.org/gru/rest/voirie/soap"'),
                         2)


if __name__ == "__main__":
    unittest.main()
