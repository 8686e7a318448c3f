"""The REST route of `demands:` (docs/delivery.md, "Demands opened by the
business application"): POST /{kind}/{slug}/{demands.endpoint} queues a
w.c.s. submission through the outbox, idempotent and correlated when it
names a reference, so that the business application can then report the
demand's status through `callbacks:`. A fake w.c.s. checks every signature."""
import json
import unittest
import uuid

from async_relais import TRACKING_ID, DeliveryTestMixin
from relais_harness import poll_until
from soap_workspace import APP_PASSWORD, APP_USER, GRU_ORIG, NO_STATUS_KEY, basic, start_workspace

DEMANDS = "/rest/voirie/demands"


class DemandRouteTest(DeliveryTestMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs, cls.ws, cls.relais = start_workspace(cls.addClassCleanup)
        cls.auth = basic(APP_USER, APP_PASSWORD)

    def tearDown(self):
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")

    def post(self, body, path=DEMANDS, headers=None):
        return self.relais.post(path, body, headers=dict(self.auth, **(headers or {})))

    def submitted(self, tracking_id):
        return poll_until(lambda: [s for s in self.wcs.submissions_to("signalement-voirie", 200)
                                   if s.headers["idempotency-key"] == tracking_id], 20,
                          message="w.c.s. never got the demand")[0]

    def accepted(self, response):
        self.assertEqual(response.status, 202, response)
        tracking_id = response.json()["data"]["tracking_id"]
        self.assertRegex(tracking_id, TRACKING_ID)
        return tracking_id

    def test_demand_reaches_wcs_and_its_status_follows(self):
        reference = "SIG-" + uuid.uuid4().hex[:12]
        tracking_id = self.accepted(self.post({
            "reference": reference,
            "fields": {"adresse": "5 rue Neuve", "telephone": "0102030405",
                       "description": None}}))
        submission = self.submitted(tracking_id)
        self.assertEqual(submission.json(), {
            "data": {"adresse": "5 rue Neuve", "telephone": "0102030405", "description": None},
            "context": {"channel": "web"}})
        self.assertEqual(submission.orig, GRU_ORIG)
        # The same reference again: the first demand, nothing submitted twice.
        self.assertEqual(self.accepted(self.post({"reference": reference})), tracking_id)
        # The correlation lets the business application report the status.
        def reported():
            r = self.post({"reference": reference, "status": "done"}, "/rest/voirie/status")
            return r if r.status != 404 else None
        self.accepted(poll_until(reported, 10, message="the correlation was never recorded"))
        form_url = submission.answer["data"]["url"]
        (trigger,) = poll_until(lambda: self.wcs.triggers_on(form_url), 20)
        self.assertEqual((trigger.trigger, trigger.json()),
                         ("fini", {"reference": reference, "status": "done"}))
        self.assertEqual(len([s for s in self.wcs.submissions
                              if s.headers["idempotency-key"] == tracking_id]), 1)

    def test_demands_without_reference_are_each_new(self):
        first = self.accepted(self.post({"fields": {"adresse": "a", "description": 3.5}}))
        second = self.accepted(self.post({"fields": {"adresse": "a", "description": True}}))
        self.assertNotEqual(first, second)
        self.assertEqual(self.submitted(first).json()["data"], {"adresse": "a", "description": 3.5})
        self.assertEqual(self.submitted(second).json()["data"]["description"], True)
        self.assertEqual(self.submitted(self.accepted(self.post({}))).json(),
                         {"data": {}, "context": {"channel": "web"}})

    def test_refusals(self):
        marker = "MARKER-" + uuid.uuid4().hex
        cases = [
            ('{"fields": ', 400, "invalid-json"),
            ("[1, 2]", 400, "invalid-json"),
            ('{"fields": {"adresse": "%s", "description": 123456789012345678901234}}' % marker,
             400, "invalid-json"),
            ({"fields": {"adresse": marker}, "extra": 1}, 400, "invalid-parameter"),
            ({"fields": [marker]}, 400, "invalid-parameter"),
            ({"fields": {"adresse": {"street": marker}}}, 400, "invalid-parameter"),
            ({"fields": {"adresse": [marker]}}, 400, "invalid-parameter"),
            ({"fields": {"undeclared": marker}}, 400, "invalid-parameter"),
            ({"reference": 12, "fields": {"adresse": marker}}, 400, "invalid-parameter"),
            ({"reference": "", "fields": {"adresse": marker}}, 400, "invalid-parameter"),
            ({"reference": "x" * 257, "fields": {"adresse": marker}}, 400, "invalid-parameter"),
            ({"reference": "a\nb", "fields": {"adresse": marker}}, 400, "invalid-parameter"),
        ]
        for body, status, error_class in cases:
            with self.subTest(body=body):
                self.assert_error(self.post(body), status, error_class)
        duplicate = '{"fields": {"adresse": "%s", "adresse": "b"}}' % marker
        self.assert_error(self.post(duplicate), 400, "invalid-parameter")
        self.assert_error(self.relais.get(DEMANDS, headers=self.auth), 405, "method-not-allowed")
        self.assert_error(self.post({}, DEMANDS + "/more"), 404, "not-found")
        self.assert_error(self.relais.post("/rest/voirie-demands/demands", {},
                                           headers={"Authorization": "Bearer " + NO_STATUS_KEY}),
                          403, "not-granted")
        self.assert_error(self.relais.post("/rest/voirie/status", {"reference": "r", "status": "done"},
                                           headers={"Authorization": "Bearer " + NO_STATUS_KEY}),
                          403, "not-granted")
        # Nothing refused was submitted.
        self.accepted(self.post({"fields": {"adresse": "after"}}))
        poll_until(lambda: any(s.json()["data"].get("adresse") == "after"
                               for s in self.wcs.submissions), 20)
        self.assertFalse([s for s in self.wcs.submissions if marker.encode() in s.body])
        self.assertFalse(json.dumps([s.json() for s in self.wcs.submissions]).count(marker))


if __name__ == "__main__":
    unittest.main()
