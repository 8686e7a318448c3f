"""The `soap` connector kind through the real relais binary, against a SOAP
business application written by others (the npm soap server, from its own
WSDL) that checks WS-Security UsernameTokens: SOAP 1.1 and 1.2 round trips,
faults, an HTML error page, timeouts, async operations delivered through
the outbox (a sender's fault is final, the rest is retried), and what is
(not) written."""
import json
import unittest

from async_relais import (FAST_DELIVERY, QUICK_OUTBOX, Caller, DeliveryTestMixin, apikey_client,
                          relais_config)
from fake_upstream import FakeUpstream
import relais_harness
import soap_peer
from relais_harness import Workspace, enter, written_bytes
from soap_peer import SoapBusinessApp

API_KEY = "soap-client-key"
WSSE_USER = "relais"
WSSE_PASSWORD = "wsse-canary-93ab"
CANARY = "CANARY-SOAP-2c77"
NS = "urn:example:etat-civil"


def operations(async_delivery=False):
    """GetActe (a lookup, retried once) and DeposerDemande (async or not)."""
    deposer = {
        "method": "POST",
        "body_schema": {"type": "object", "required": ["reference", "nom", "prenom"]},
        "request": {"soap_action": NS + "#DeposerDemande",
                    "body": "<ec:DeposerDemande><ec:reference>{body:/reference}</ec:reference>"
                            "<ec:nom>{body:/nom}</ec:nom><ec:prenom>{body:/prenom}</ec:prenom>"
                            "<ec:motif>{body:/motif}</ec:motif></ec:DeposerDemande>"},
    }
    if async_delivery:
        deposer["async"] = True
    else:
        deposer["response"] = {"data": "ec:DeposerDemandeResponse/ec:dossier"}
    return {
        "acte": {"parameters": {"numero": {"required": True}, "type": {}},
                 "retries": 1,
                 "request": {"soap_action": NS + "#GetActe", "idempotent": True,
                             "body": "<ec:GetActe><ec:numero>{numero}</ec:numero>"
                                     "<ec:type>{type}</ec:type></ec:GetActe>"},
                 "response": {"data": "ec:GetActeResponse/ec:acte",
                              "fields": {"numero": "ec:numero", "nom": "ec:nom",
                                         "annee": {"xpath": "ec:annee", "type": "integer"},
                                         "mentions": {"xpath": "ec:mention", "list": True}}}},
        "acte-public": {"parameters": {"numero": {"required": True}},
                        "personal_data": False, "error_body": True,
                        "request": {"soap_action": NS + "#GetActe",
                                    "body": "<ec:GetActe><ec:numero>{numero}</ec:numero>"
                                            "</ec:GetActe>"}},
        "whole": {"parameters": {"numero": {"required": True}},
                  "request": {"soap_action": NS + "#GetActe",
                              "body": "<ec:GetActe><ec:numero>{numero}</ec:numero></ec:GetActe>"}},
        "deposer": deposer,
    }


def connector(slug, base_url, version, password_type="digest", password=WSSE_PASSWORD,
              async_delivery=False):
    return json.dumps({
        "slug": slug, "kind": "soap", "family": "etat-civil-citoyennete",
        "upstream": {"base_url": base_url, "timeout": "5s"},
        "soap": {"version": version,
                 "ws_security": {"username": WSSE_USER, "password": password,
                                 "password_type": password_type}},
        "namespaces": {"ec": NS}, "delivery": FAST_DELIVERY,
        "endpoints": operations(async_delivery)})


class SoapClientTest(DeliveryTestMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not soap_peer.available():
            raise AssertionError("the npm soap package is not installed: run tools/install-deps.sh")
        cls.ws = enter(cls.addClassCleanup, Workspace())
        cls.app = enter(cls.addClassCleanup, SoapBusinessApp(WSSE_USER, WSSE_PASSWORD))
        cls.fake = enter(cls.addClassCleanup, FakeUpstream())
        cls.fake.routes["/json/not-soap"] = (200, {"Content-Type": "text/xml"}, "<hello/>")
        ws11 = cls.app.url + "/ws/etat-civil"
        ws12 = cls.app.url + "/ws12/etat-civil"
        cls.ws.write_connector("ec.yaml", connector("ec", ws11, "1.1"))
        cls.ws.write_connector("ec12.yaml", connector("ec12", ws12, "1.2", password_type="text"))
        cls.ws.write_connector("ec-push.yaml", connector("ec-push", ws11, "1.1",
                                                         async_delivery=True))
        cls.ws.write_connector("ec-wrong.yaml", connector("ec-wrong", ws11, "1.1",
                                                          password="not-the-password"))
        cls.ws.write_connector("ec-slow.yaml", json.dumps({
            "slug": "ec-slow", "kind": "soap", "family": "etat-civil-citoyennete",
            "upstream": {"base_url": cls.fake.url + "/delay/3000", "timeout": "300ms"},
            "endpoints": {"any": {"request": {"body": "<a/>"}}}}))
        cls.ws.write_connector("ec-other.yaml", json.dumps({
            "slug": "ec-other", "kind": "soap", "family": "etat-civil-citoyennete",
            "upstream": {"base_url": cls.fake.url + "/json/not-soap"},
            "endpoints": {"any": {"request": {"body": "<a/>"}}}}))
        slugs = ["ec", "ec12", "ec-push", "ec-wrong", "ec-slow", "ec-other"]
        cls.ws.write_config(relais_config(
            {"tester": apikey_client(API_KEY, ["etat-civil-citoyennete"],
                                     {slug: "*" for slug in slugs})},
            outbox=QUICK_OUTBOX, log_level="debug"))
        cls.relais = relais_harness.start_relais(cls.addClassCleanup, cls.ws)
        cls.caller = Caller(cls.relais, API_KEY)

    def last_call(self, operation):
        return [c for c in self.app.calls() if c["operation"] == operation][-1]

    def test_round_trip_soap_1_1_with_a_password_digest(self):
        r = self.caller.get("/soap/ec/acte", {"numero": "42"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"], {"numero": "42", "nom": "Martin", "annee": 1987,
                                            "mentions": ["mariage", "divorce"]})
        call = self.last_call("GetActe")
        self.assertEqual(call["args"], {"numero": "42"})
        self.assertEqual(call["headers"]["soapaction"], f'"{NS}#GetActe"')
        self.assertEqual(call["headers"]["content-type"], "text/xml; charset=utf-8")

    def test_round_trip_soap_1_2_with_a_password_in_text(self):
        r = self.caller.get("/soap/ec12/acte", {"numero": "7", "type": "naissance"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"]["numero"], "7")
        call = self.last_call("GetActe")
        self.assertEqual(call["args"], {"numero": "7", "type": "naissance"})
        self.assertEqual(call["headers"]["content-type"],
                         f'application/soap+xml; charset=utf-8; action="{NS}#GetActe"')

    def test_without_mapping_the_response_element_is_converted(self):
        r = self.caller.get("/soap/ec/whole", {"numero": "42"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"]["ec:acte"]["ec:prenom"], "Zoé")

    def test_hostile_values_reach_the_application_as_text(self):
        hostile = "</ec:nom><ec:admin>1</ec:admin> & ]]> \"quoted\" {{x}} é"
        r = self.caller.post("/soap/ec/deposer",
                             {"reference": "R-1", "nom": hostile, "prenom": "<b>"})
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.json()["data"], r"^EC-\d+$")
        self.assertEqual(self.last_call("DeposerDemande")["args"],
                         {"reference": "R-1", "nom": hostile, "prenom": "<b>"})

    def test_noncharacters_are_refused_before_the_application(self):
        calls = len(self.app.calls())
        # U+FFFF and U+FFFE are UTF-8, and no XML characters.
        r = self.caller.get("/soap/ec/acte", {"numero": "\uffff"})
        self.assert_error(r, 400, "invalid-parameter")
        r = self.caller.post("/soap/ec/deposer", {"reference": "R-1", "nom": "a\ufffeb",
                                                  "prenom": "b"})
        self.assert_error(r, 400, "invalid-body")
        self.assertEqual(len(self.app.calls()), calls)

    def test_faults_of_both_versions(self):
        # On an endpoint carrying personal data, the code only: a fault's
        # text may quote the person.
        r = self.caller.get("/soap/ec/acte", {"numero": "INCONNU"})
        self.assert_error(r, 502, "upstream-fault")
        self.assertEqual(r.json()["err_desc"], "SOAP fault Client")
        r = self.caller.get("/soap/ec12/acte", {"numero": "PANNE"})
        self.assert_error(r, 502, "upstream-fault")
        self.assertEqual(r.json()["err_desc"], "SOAP fault Receiver")
        # With error_body, where the endpoint is free of personal data, its text too.
        r = self.caller.get("/soap/ec12/acte-public", {"numero": "INCONNU"})
        self.assert_error(r, 502, "upstream-fault")
        self.assertEqual(r.json()["err_desc"], "SOAP fault Sender: Acte inconnu")

    def test_a_wrong_ws_security_password_is_refused_by_the_application(self):
        r = self.caller.get("/soap/ec-wrong/acte", {"numero": "42"})
        self.assert_error(r, 502, "upstream-fault")

    def test_html_error_page_timeout_and_not_an_envelope(self):
        self.app.fail_next(503, 2)
        r = self.caller.get("/soap/ec/whole", {"numero": "42"})
        self.assert_error(r, 502, "upstream-error")
        self.assertEqual(r.json()["err_desc"], "upstream answered 503")
        # The lookup is idempotent: one retry gets past the second 503.
        r = self.caller.get("/soap/ec/acte", {"numero": "42"})
        self.assertEqual(r.status, 200, r)
        self.assert_error(self.caller.get("/soap/ec-slow/any"), 504, "upstream-timeout")
        r = self.caller.get("/soap/ec-other/any")
        self.assert_error(r, 502, "upstream-invalid-response")
        self.assertIn("not a SOAP envelope", r.json()["err_desc"])

    def test_async_operation_is_delivered_and_retried_past_an_outage(self):
        self.app.fail_next(503, 2)
        r = self.caller.post("/soap/ec-push/deposer",
                             {"reference": "R-async", "nom": "Martin", "prenom": "Zoé"})
        self.assertEqual(r.status, 202, r)
        data = self.caller.wait_state(r.json()["data"]["tracking_id"], "delivered")
        self.assertEqual(data["attempts"], 3)
        call = self.last_call("DeposerDemande")
        self.assertEqual(call["args"]["reference"], "R-async")
        self.assertEqual(call["headers"]["idempotency-key"], r.json()["data"]["tracking_id"])

    def test_async_operation_refused_by_a_senders_fault_is_a_dead_letter(self):
        r = self.caller.post("/soap/ec-push/deposer",
                             {"reference": "R-refus", "nom": "REFUS", "prenom": "Zoé"})
        self.assertEqual(r.status, 202, r)
        data = self.caller.wait_state(r.json()["data"]["tracking_id"], "dead")
        self.assertEqual(data["attempts"], 1)
        self.assertEqual(data["last_status"], 400)

    def test_personal_values_and_secrets_are_never_written(self):
        r = self.caller.get("/soap/ec/acte", {"numero": CANARY})
        self.assertEqual(r.status, 200, r)
        r = self.caller.post("/soap/ec-push/deposer",
                             {"reference": CANARY, "nom": CANARY, "prenom": CANARY})
        self.caller.wait_state(r.json()["data"]["tracking_id"], "delivered")
        written = written_bytes(self.ws)
        self.assertNotIn(CANARY.encode(), written)
        self.assertNotIn(WSSE_PASSWORD.encode(), written_bytes(self.ws, skip=("connectors",)))


if __name__ == "__main__":
    unittest.main()
