"""Status callbacks through the real relais binary (docs/delivery.md): a
push records the correlation business reference <-> w.c.s. demand, the
business application reports a status, and a fake w.c.s. that checks the
Publik signature receives the workflow trigger."""
import itertools
import unittest
import uuid

import fake_wcs
from async_relais import (FAST_DELIVERY, TRACKING_ID, Caller, DeliveryTestMixin, apikey_client,
                          pick, push_endpoint, quick_outbox, relais_config, rest_connector)
from fake_wcs import FakeWcs
from push_upstream import PushUpstream
from relais_harness import Workspace, enter, poll_until, start_relais

URBA = "economie-urbanisme"
ETAT_CIVIL = "etat-civil-citoyennete"
GRU_ORIG = "relais.test"
GRU_KEY = "gru-shared-key-for-relais"
WCS_CLIENT_KEY = "callbacks-wcs-client"
URBA_APP_KEY = "callbacks-urba-app"
EC_APP_KEY = "callbacks-ec-app"

STATUSES = {
    "received": {"trigger": "recu"},
    "accepted": {"trigger": "accepte", "terminal": True},
    "refused": {"trigger": "refuse", "terminal": True},
    "archived": {"trigger": "archive"},
    "reviewed": {"trigger": "examine"},
    "forbidden": {"trigger": "interdit"},
    "studied": {"trigger": "etudie"},
    "delayed": {"trigger": "retarde"},
}


def callbacks_spec():
    return {"endpoint": "status", "demand": "form_url", "reference": "/id",
            "fields": ["decision_date", "comment"], "statuses": STATUSES}


class CallbackTest(DeliveryTestMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs = enter(cls.addClassCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        cls.wcs.script("archive", [], default=fake_wcs.UNAVAILABLE)
        cls.wcs.script("interdit", [], default=fake_wcs.FORBIDDEN)
        cls.wcs.script("etudie", [fake_wcs.PROCESSING, fake_wcs.PROCESSING])
        cls.wcs.script("retarde", [fake_wcs.MAINTENANCE])
        cls.app = enter(cls.addClassCleanup, PushUpstream())
        cls.ws = enter(cls.addClassCleanup, Workspace())
        permit = push_endpoint("permits", parameters={"form_url": {}})
        # Sends no body: relais never parses the one it is given.
        notice = {"method": "POST", "async": True, "parameters": {"form_url": {}},
                  "request": {"method": "POST", "path": "notices"}}
        cls.ws.write_connector("urbanisme.yaml", rest_connector(
            "urbanisme", URBA, cls.app.url + "/urba/", {"permit": permit, "notice": notice},
            delivery=FAST_DELIVERY, callbacks=callbacks_spec()))
        cls.ws.write_connector("etat-civil.yaml", rest_connector(
            "etat-civil", ETAT_CIVIL, cls.app.url + "/ec/", {"request": permit},
            delivery=FAST_DELIVERY, callbacks=callbacks_spec()))
        cls.ws.write_config(relais_config(
            clients={
                "wcs": apikey_client(WCS_CLIENT_KEY, [URBA, ETAT_CIVIL],
                                     {"urbanisme": ["permit", "notice", "deliveries"],
                                      "etat-civil": ["request", "deliveries"]}),
                "urba-app": apikey_client(URBA_APP_KEY, [URBA], {"urbanisme": "*"}),
                "ec-app": apikey_client(EC_APP_KEY, [ETAT_CIVIL], {"etat-civil": "*"}),
            },
            outbox=quick_outbox(),
            gru={"url": cls.wcs.url + "/", "orig": GRU_ORIG, "key": GRU_KEY, "algo": "sha256"}))
        cls.relais = start_relais(cls.addClassCleanup, cls.ws)
        cls.gru = Caller(cls.relais, WCS_CLIENT_KEY)
        cls.urba_app = Caller(cls.relais, URBA_APP_KEY)
        cls.ec_app = Caller(cls.relais, EC_APP_KEY)
        cls.numbers = itertools.count(1)

    def tearDown(self):
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")

    # -- helpers -------------------------------------------------------------

    def demand(self, slug="urbanisme", endpoint="permit"):
        """Pushes a new demand and waits until the business application took
        it; returns (form_url, reference)."""
        form_url = self.wcs.form_url("permis-de-construire", next(self.numbers))
        r = self.gru.push(slug, endpoint, {"last_name": "Dupont"}, {"form_url": form_url})
        self.assertEqual(r.status, 202, r)
        tracking_id = r.json()["data"]["tracking_id"]
        self.gru.wait_state(tracking_id, "delivered")
        reference = self.app.reference_of(tracking_id)
        self.assertRegex(reference, r"^REF-[0-9]+$")
        return form_url, reference

    def report(self, caller, reference, status, slug="urbanisme", **extra):
        body = dict(reference=reference, status=status, **extra)
        return caller.post(f"/rest/{slug}/status", body)

    def report_accepted(self, reference, status, slug="urbanisme", caller=None, **extra):
        """A report that must be accepted. The correlation is recorded just
        after the push was delivered: a report racing it may get 404 for a
        moment, as it would from a business application answering at once."""
        caller = caller or self.urba_app

        def sent():
            r = self.report(caller, reference, status, slug, **extra)
            return r if r.status != 404 else None

        r = poll_until(sent, 5, message="the correlation was never recorded")
        self.assertEqual(r.status, 202, r)
        body = r.json()
        self.assertEqual(body["err"], 0, body)
        self.assertRegex(body["data"]["tracking_id"], TRACKING_ID)
        return body["data"]["tracking_id"]

    def wait_triggers(self, form_url, count):
        return poll_until(lambda: (lambda t: t if len(t) >= count else None)(
            self.wcs.triggers_on(form_url)), 20,
            message=lambda: f"w.c.s. got {self.wcs.triggers_on(form_url)}")

    # -- the round trip ---------------------------------------------------------

    def test_round_trip_reaches_wcs_signed(self):
        form_url, reference = self.demand()
        tracking_id = self.report_accepted(reference, "accepted", message="Permis accordé",
                                           fields={"decision_date": "2026-12-01"})
        (trigger,) = self.wait_triggers(form_url, 1)
        self.assertEqual(trigger.path, urlpath(form_url) + "jump/trigger/accepte/")
        self.assertEqual(trigger.orig, GRU_ORIG)
        self.assertEqual(trigger.headers["content-type"], "application/json")
        self.assertEqual(trigger.headers["accept"], "application/json")
        self.assertEqual(trigger.json(), {"reference": reference, "status": "accepted",
                                          "message": "Permis accordé",
                                          "decision_date": "2026-12-01"})
        data = self.urba_app.wait_state(tracking_id, "delivered")
        self.assertEqual((data["kind"], data["connector"], data["attempts"], data["last_status"]),
                         ("trigger", "urbanisme", 1, 200), data)

    def test_replayed_report_triggers_once(self):
        form_url, reference = self.demand()
        first = self.report_accepted(reference, "received")
        self.assertEqual(self.report_accepted(reference, "received"), first)
        self.wait_triggers(form_url, 1)
        self.urba_app.wait_state(first, "delivered")
        self.assertEqual(self.report_accepted(reference, "received"), first)
        # A later, different report is relayed: by then a duplicate would be too.
        later = self.report_accepted(reference, "reviewed", fields={"comment": "vu"})
        self.assertNotEqual(later, first)
        self.urba_app.wait_state(later, "delivered")
        triggers = [t.trigger for t in self.wcs.triggers_on(form_url)]
        self.assertEqual(triggers.count("recu"), 1, triggers)

    def test_terminal_status_drops_the_correlation(self):
        form_url, reference = self.demand()
        tracking_id = self.report_accepted(reference, "refused")
        self.urba_app.wait_state(tracking_id, "delivered")
        r = poll_until(lambda: (lambda r: r if r.status == 404 else None)(
            self.report(self.urba_app, reference, "received")), 5,
            message="the correlation outlived its terminal status")
        self.assert_error(r, 404, "unknown-reference")
        # The terminal report itself, replayed (its 202 was lost, say): the
        # same tracking id, nothing relayed again.
        replay = self.report(self.urba_app, reference, "refused")
        self.assertEqual(replay.status, 202, replay)
        self.assertEqual(replay.json()["data"]["tracking_id"], tracking_id)
        self.assertEqual([t.trigger for t in self.wcs.triggers_on(form_url)], ["refuse"])

    # -- refusals ------------------------------------------------------------------

    def test_refused_reports_relay_nothing(self):
        form_url, reference = self.demand()
        self.assert_error(self.report(self.urba_app, "REF-unknown-" + uuid.uuid4().hex, "received"),
                          404, "unknown-reference")
        # Wait for the correlation with a report that is refused after the
        # lookup would have succeeded: then every refusal below is for its
        # own reason.
        poll_until(lambda: self.report(self.urba_app, reference, "no-such-status").status != 404, 5)
        self.assert_error(self.report(self.urba_app, reference, "no-such-status"),
                          400, "unknown-status")
        self.assert_error(self.report(self.urba_app, reference, "received",
                                      fields={"undeclared": "x"}), 400, "invalid-parameter")
        self.assert_error(self.report(self.urba_app, reference, "received", fields=["x"]),
                          400, "invalid-parameter")
        self.assert_error(self.report(self.urba_app, reference, "received", message=3),
                          400, "invalid-parameter")
        self.assert_error(self.urba_app.post("/rest/urbanisme/status", {"status": "received"}),
                          400, "missing-parameter")
        self.assert_error(self.urba_app.post("/rest/urbanisme/status", {"reference": reference}),
                          400, "missing-parameter")
        self.assert_error(self.urba_app.post("/rest/urbanisme/status",
                                             {"reference": 12, "status": "received"}),
                          400, "invalid-parameter")
        self.assert_error(self.urba_app.post("/rest/urbanisme/status", '{"reference": '),
                          400, "invalid-json")
        big = self.assert_error(self.report(self.urba_app, reference, "received",
                                            fields={"n": 2**64}), 400, "invalid-json")
        self.assertIn("would have to round", big["err_desc"])
        # A field nested deeper than any walk over it could recurse: this one
        # (400 KB) crashed relais when the report was written out again.
        depth = 200_000
        deep = (f'{{"reference": "{reference}", "status": "received", "fields": {{"nope": '
                + "[" * depth + "]" * depth + "}}")
        self.assert_error(self.urba_app.post("/rest/urbanisme/status", deep), 400, "invalid-json")
        # The GRU core is granted the push endpoint of that connector only.
        self.assert_error(self.report(self.gru, reference, "received"), 403, "not-granted")
        # Families apart: the same reference through a connector of another family.
        self.assert_error(self.report(self.ec_app, reference, "received", slug="etat-civil"),
                          404, "unknown-reference")
        self.assert_error(self.report(self.urba_app, reference, "received", slug="etat-civil"),
                          403, "not-granted")
        # Nothing was relayed: a report accepted now is the first trigger.
        tracking_id = self.report_accepted(reference, "received")
        self.urba_app.wait_state(tracking_id, "delivered")
        self.assertEqual([t.trigger for t in self.wcs.triggers_on(form_url)], ["recu"])

    def test_references_of_another_family_are_unknown(self):
        ec_form, ec_reference = self.demand("etat-civil", "request")
        self.assert_error(self.report(self.urba_app, ec_reference, "received"),
                          404, "unknown-reference")
        tracking_id = self.report_accepted(ec_reference, "received", slug="etat-civil",
                                           caller=self.ec_app)
        self.ec_app.wait_state(tracking_id, "delivered")
        # The trigger's tracking id is not visible from the other family.
        self.assert_error(self.urba_app.delivery(tracking_id), 404, "not-found")
        self.assertEqual([t.trigger for t in self.wcs.triggers_on(ec_form)], ["recu"])

    def test_demand_url_must_be_under_the_gru_url(self):
        marker = uuid.uuid4().hex
        for form_url in ("https://demarches.example.org/permis/1/",
                         self.wcs.url + ".evil.example/permis/1/",
                         self.wcs.url.replace("http://", "https://") + "/permis/1/",
                         "http://evil.example/" + self.wcs.url + "/permis/1/"):
            with self.subTest(form_url=form_url):
                self.assert_error(self.gru.push("urbanisme", "permit", {"marker": marker},
                                                {"form_url": form_url}), 400, "invalid-parameter")
        self.assert_error(self.gru.push("urbanisme", "permit", {"marker": marker}),
                          400, "missing-parameter")
        # Given in the body, beside a number relais could not pass on
        # exactly: the URL is found all the same. An endpoint that sends the
        # body refuses it for that number; one that sends none takes it.
        body = ('{"form_url": "%s", "marker": "%s", "n": 123456789012345678901234}'
                % (self.wcs.form_url("permis-de-construire", 1), marker))
        refused = self.assert_error(self.gru.push("urbanisme", "permit", body), 400, "invalid-json")
        self.assertIn("would have to round", refused["err_desc"])
        self.assertEqual(self.gru.push("urbanisme", "notice", body).status, 202)
        # A demand accepted afterwards is delivered; the refused ones never were.
        self.demand()
        self.assertFalse([r for r in self.app.requests() if marker.encode() in r.body])

    # -- what w.c.s. answers -----------------------------------------------------

    def test_wcs_404_is_a_dead_letter_trigger_unavailable(self):
        form_url, reference = self.demand()
        tracking_id = self.report_accepted(reference, "archived")
        data = self.urba_app.wait_state(tracking_id, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "attempts", "last_status", "error_class"),
                         ("dead", 1, 404, "trigger-unavailable"), data)
        self.assertEqual(len(self.wcs.triggers_on(form_url)), 1)

    def test_wcs_currently_processing_is_retried(self):
        form_url, reference = self.demand()
        tracking_id = self.report_accepted(reference, "studied", fields={"comment": "ok"})
        data = self.urba_app.wait_state(tracking_id, ("dead", "delivered"))
        self.assertEqual((data["state"], data["attempts"], data["last_status"]),
                         ("delivered", 3, 200), data)
        triggers = self.wcs.triggers_on(form_url)
        self.assertEqual([t.status for t in triggers], [403, 403, 200])
        # Each attempt is signed afresh (w.c.s. refuses a nonce seen before).
        self.assertEqual(len({t.query for t in triggers}), 3)

    def test_statuses_of_a_demand_reach_wcs_in_their_order(self):
        # The first status meets a 503 and waits for its retry: the second,
        # reported meanwhile, waits behind it.
        form_url, reference = self.demand()
        self.report_accepted(reference, "delayed")
        second = self.report_accepted(reference, "reviewed")
        self.urba_app.wait_state(second, "delivered")
        self.assertEqual([(t.trigger, t.status) for t in self.wcs.triggers_on(form_url)],
                         [("retarde", 503), ("retarde", 200), ("examine", 200)])

    def test_other_wcs_403_is_a_dead_letter_gru_refused(self):
        form_url, reference = self.demand()
        tracking_id = self.report_accepted(reference, "forbidden")
        data = self.urba_app.wait_state(tracking_id, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "attempts", "last_status", "error_class"),
                         ("dead", 1, 403, "gru-refused"), data)
        self.assertEqual(len(self.wcs.triggers_on(form_url)), 1)


def urlpath(url):
    return "/" + url.split("/", 3)[3]


if __name__ == "__main__":
    unittest.main()
