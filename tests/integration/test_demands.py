"""Demands opened in the GRU core for connectors (docs/delivery.md, "Demands
opened in the GRU core"), through the real relais binary: the phonecalls
hook `on_call_start` queues a demand in the outbox at each call-start, and a
fake w.c.s. that checks the Publik signature receives
`POST /api/formdefs/<slug>/submit`. Delivered, retried after a 503, dead on
a 404, queued across a crash (kill -9), nothing queued without `gru:`, and
a canary number never written in clear anywhere."""
import json
import os
import unittest
import urllib.parse

from async_relais import FAST_DELIVERY, QUICK_OUTBOX, TRACKING_ID, relais_config
from fake_wcs import MAINTENANCE, NOT_FOUND, FakeWcs
from relais_harness import Workspace, enter, poll_until, run_relais, start_relais, written_bytes

API_KEY = "demands-integration-key"
AUTH = {"Authorization": "Bearer " + API_KEY}
FAMILY = "etat-civil-citoyennete"
GRU_ORIG = "relais.demands"
GRU_KEY = "demands-gru-shared-key"
LOG_FILE = "logs/relais.log"
ENDPOINTS = {"call-start": {}, "call-stop": {}, "calls": {}}
CANARY_NUMBER = "+33 6 99 58 17 42"
CANARY_REASON = "CANARY-demand-reason-7c2e"

# slug -> form it opens
FORMS = {"accueil": "appel-entrant", "accueil-flaky": "appel-flaky",
         "accueil-gone": "appel-supprime"}


def phonecalls_connector(slug, formdef):
    return json.dumps({
        "slug": slug, "kind": "phonecalls", "family": FAMILY, "endpoints": ENDPOINTS,
        "delivery": FAST_DELIVERY,
        "on_call_start": {"formdef": formdef, "channel": "phone",
                          "fields": {"telephone": "caller", "poste": "callee",
                                     "motif": "data.reason"}},
    }, indent=1)


def write_workspace(ws, wcs, slugs, gru=True):
    for slug in slugs:
        ws.write_connector(f"{slug}.yaml", phonecalls_connector(slug, FORMS[slug]))
    os.makedirs(os.path.join(ws.root, "logs"), exist_ok=True)
    ws.write_config(relais_config(
        clients={"ipbx": {"apikey": API_KEY, "families": [FAMILY],
                          "grants": {slug: "*" for slug in slugs}}},
        outbox=dict(QUICK_OUTBOX),
        gru={"url": wcs.url + "/", "orig": GRU_ORIG, "key": GRU_KEY} if gru else None,
        log_level="debug", log_file=LOG_FILE))


def call_start(relais, slug, caller, callee, **data):
    query = urllib.parse.urlencode(dict(caller=caller, callee=callee, **data))
    return relais.get(f"/phonecalls/{slug}/call-start?{query}", headers=AUTH)


class DemandsCase(unittest.TestCase):
    def start(self, ws):
        return start_relais(self.addCleanup, ws, log_path=os.path.join(ws.root, LOG_FILE))

    def started(self, relais, slug, caller, callee="1234", **data):
        r = call_start(relais, slug, caller, callee, **data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["err"], 0, r)
        return r

    def outbox(self, ws, slug):
        """`relais outbox list` of `slug`, as dicts."""
        r = run_relais("outbox", "list", "--config", ws.config, "--connector", slug)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        header = lines[0].split("\t")
        return [dict(zip(header, line.split("\t"))) for line in lines[1:]]

    def wait_outbox(self, ws, slug, state, count=1, timeout=20):
        return poll_until(
            lambda: (lambda rows: rows if len(rows) >= count else None)(
                [m for m in self.outbox(ws, slug) if m["state"] == state]),
            timeout, interval=0.1,
            message=lambda: f"{slug}: {self.outbox(ws, slug)}")

    def wait_submissions(self, wcs, formdef, count=1, status=None, timeout=20):
        return poll_until(
            lambda: (lambda s: s if len(s) >= count else None)(
                wcs.submissions_to(formdef, status)),
            timeout, message=lambda: f"w.c.s. got {wcs.submissions_to(formdef)}")


class DemandsTest(DemandsCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs = enter(cls.addClassCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        cls.wcs.script_submit("appel-supprime", [], default=NOT_FOUND)
        cls.ws = enter(cls.addClassCleanup, Workspace())
        write_workspace(cls.ws, cls.wcs, FORMS)
        cls.relais = start_relais(cls.addClassCleanup, cls.ws,
                                  log_path=os.path.join(cls.ws.root, LOG_FILE))

    def tearDown(self):
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")

    def test_call_start_opens_a_signed_demand(self):
        self.started(self.relais, "accueil", "0102030405", "1234", reason="rendez-vous")
        (submission,) = [s for s in self.wait_submissions(self.wcs, "appel-entrant")
                         if s.json()["data"]["telephone"] == "0102030405"]
        self.assertEqual(submission.status, 200)
        self.assertEqual(submission.orig, GRU_ORIG)
        self.assertEqual(submission.json(), {
            "data": {"telephone": "0102030405", "poste": "1234", "motif": "rendez-vous"},
            "context": {"channel": "phone"}})
        self.assertEqual(submission.headers["content-type"], "application/json")
        self.assertEqual(submission.headers["accept"], "application/json")
        self.assertRegex(submission.headers["idempotency-key"], TRACKING_ID)
        self.assertTrue(submission.headers.get("x-request-id"))
        tracking_id = submission.headers["idempotency-key"]
        rows = self.wait_outbox(self.ws, "accueil", "delivered")
        (row,) = [m for m in rows if m["tracking_id"] == tracking_id]
        self.assertEqual((row["kind"], row["endpoint"], row["attempts"], row["last_status"]),
                         ("demand", "appel-entrant", "1", "200"))
        line = self.relais.wait_for_log(lambda l: l.get("event") == "delivery"
                                        and l.get("tracking_id") == tracking_id)
        self.assertEqual((line["kind"], line["verdict"], line["status"]),
                         ("demand", "delivered", 200))
        metrics = self.relais.get("/_relais/metrics").body.decode()
        self.assertRegex(metrics, r'(?m)^relais_delivery_attempts_total\{connector="accueil",'
                                  r'kind="demand",verdict="delivered"\} [1-9]')

    def test_retried_after_a_503(self):
        self.wcs.script_submit("appel-flaky", [MAINTENANCE, MAINTENANCE])
        self.started(self.relais, "accueil-flaky", "0611223344")
        self.wait_submissions(self.wcs, "appel-flaky", status=200)
        statuses = [s.status for s in self.wcs.submissions_to("appel-flaky")]
        self.assertEqual(statuses, [503, 503, 200])
        # Each attempt is signed afresh: three nonces, all accepted.
        nonces = {urllib.parse.parse_qs(s.query)["nonce"][0]
                  for s in self.wcs.submissions_to("appel-flaky")}
        self.assertEqual(len(nonces), 3)
        (row,) = self.wait_outbox(self.ws, "accueil-flaky", "delivered")
        self.assertEqual((row["kind"], row["attempts"], row["last_status"]), ("demand", "3", "200"))

    def test_dead_on_404(self):
        r = self.started(self.relais, "accueil-gone", "0622334455")
        self.assertEqual(r.json()["data"]["caller"], "0622334455")
        (row,) = self.wait_outbox(self.ws, "accueil-gone", "dead")
        self.assertEqual((row["kind"], row["attempts"], row["last_status"], row["error_class"]),
                         ("demand", "1", "404", "formdef-unavailable"))
        self.assertEqual(len(self.wcs.submissions_to("appel-supprime")), 1)

    def test_canary_is_never_written_in_clear(self):
        self.wcs.script_submit("appel-flaky", [MAINTENANCE])
        before = {slug: len(self.outbox(self.ws, slug)) for slug in FORMS}
        for slug in FORMS:
            self.started(self.relais, slug, CANARY_NUMBER, reason=CANARY_REASON)
            r = self.relais.post(f"/phonecalls/{slug}/call-stop?" + urllib.parse.urlencode(
                {"caller": CANARY_NUMBER, "callee": "1234"}), headers=AUTH)
            self.assertEqual(r.status, 200, r)
        # Every demand settled: delivered (payload deleted) or dead (sealed).
        for slug in FORMS:
            poll_until(lambda: len([m for m in self.outbox(self.ws, slug)
                                    if m["state"] != "pending"]) >= before[slug] + 1,
                       20, interval=0.1)
        received = [s for s in self.wcs.submissions
                    if s.json()["data"].get("telephone") == CANARY_NUMBER]
        self.assertGreaterEqual(len(received), 3, "the canary demands never reached w.c.s.")
        written = written_bytes(self.ws)
        for canary in (CANARY_NUMBER, CANARY_REASON):
            for form in {canary, urllib.parse.quote(canary), urllib.parse.quote_plus(canary),
                         canary.replace(" ", "")}:
                self.assertNotIn(form.encode(), written, f"{form!r} written in clear")
        # Control: what relais keeps about the demands is found by the same search.
        self.assertIn(received[0].headers["idempotency-key"].encode(), written)


class CrashTest(DemandsCase):
    def test_queued_demand_survives_kill_9(self):
        wcs = enter(self.addCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        wcs.script_submit("appel-entrant", [], default=MAINTENANCE)
        ws = enter(self.addCleanup, Workspace())
        write_workspace(ws, wcs, ["accueil"])
        relais = self.start(ws)
        self.started(relais, "accueil", "0633445566")
        self.wait_submissions(wcs, "appel-entrant", status=503)
        relais.kill()
        wcs.script_submit("appel-entrant", [])
        relais.start()
        (submission,) = self.wait_submissions(wcs, "appel-entrant", status=200)
        self.assertEqual(submission.json()["data"]["telephone"], "0633445566")
        (row,) = self.wait_outbox(ws, "accueil", "delivered")
        self.assertEqual(row["kind"], "demand")
        self.assertEqual(wcs.refused, [])


class NoGruTest(DemandsCase):
    def test_call_start_succeeds_and_nothing_is_queued(self):
        wcs = enter(self.addCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        ws = enter(self.addCleanup, Workspace())
        write_workspace(ws, wcs, ["accueil"], gru=False)
        relais = self.start(ws)
        self.started(relais, "accueil", "0644556677")
        line = relais.wait_for_log(lambda l: l.get("event") == "demand_not_queued")
        self.assertEqual((line["connector"], line["reason"]), ("accueil", "no gru configured"))
        self.assertNotIn("0644556677", relais.log_text())
        self.assertEqual(wcs.submissions, [])
        self.assertEqual(self.outbox(ws, "accueil"), [])


if __name__ == "__main__":
    unittest.main()
