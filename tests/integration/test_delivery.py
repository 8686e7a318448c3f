"""Asynchronous pushes through the real relais binary (docs/delivery.md):
the 202 and its tracking id, what the business application receives, where
a delivery stands, idempotency, refusals, retries (upstream down, 429 with
Retry-After), dead letters, their erasure and `relais outbox`."""
import json
import secrets
import time
import unittest
import uuid

from async_relais import (FAST_DELIVERY, TRACKING_ID, Caller, DeliveryTestMixin, apikey_client,
                          pick, push_endpoint, quick_outbox, relais_config, rest_connector)
from push_upstream import Behaviour, PushUpstream
from relais_harness import Workspace, enter, poll_until, start_relais

GRU_KEY = "delivery-gru-key"
OTHER_KEY = "delivery-other-key"
URBA = "economie-urbanisme"
ETAT_CIVIL = "etat-civil-citoyennete"
RETRY_AFTER = 2


def cli_rows(output):
    """`relais outbox list` output: a header line, then tab-separated rows."""
    lines = output.splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


class PushDeliveryTest(DeliveryTestMixin, unittest.TestCase):
    dead_letter_retention = "1h"

    @classmethod
    def setUpClass(cls):
        cls.app = enter(cls.addClassCleanup, PushUpstream())
        cls.app.rules = {
            "/urba/slow": Behaviour(delay=1.0),
            "/urba/limited": Behaviour(fail_first=1, fail_status=429, retry_after=str(RETRY_AFTER)),
            "/urba/reject": Behaviour(status=400),
            "/urba/fixable": Behaviour(status=400),
            "/bounded/unavailable": Behaviour(status=503),
        }
        cls.down_app = enter(cls.addClassCleanup, PushUpstream())
        cls.ws = enter(cls.addClassCleanup, Workspace())
        permit = push_endpoint(
            "permits", parameters={"demand_id": {"required": True, "pattern": "^[0-9]+$"}},
            body_schema={"type": "object", "required": ["last_name"],
                         "properties": {"last_name": {"type": "string", "minLength": 1}}})
        delivery = dict(FAST_DELIVERY, max_backoff="5s")
        cls.ws.write_connector("urbanisme.yaml", rest_connector(
            "urbanisme", URBA, cls.app.url + "/urba/", {
                "permit": permit,
                "slow": push_endpoint("slow"),
                "limited": push_endpoint("limited"),
                "reject": push_endpoint("reject"),
                "fixable": push_endpoint("fixable"),
            }, delivery=delivery))
        cls.ws.write_connector("urba-down.yaml", rest_connector(
            "urba-down", URBA, cls.down_app.url + "/down/", {"permit": push_endpoint("permits")},
            delivery=FAST_DELIVERY))
        # Retries end: after max_attempts, or when the next one would fall
        # after max_age.
        cls.ws.write_connector("urba-bounded.yaml", rest_connector(
            "urba-bounded", URBA, cls.app.url + "/bounded/",
            {"permit": push_endpoint("unavailable")},
            delivery={"max_attempts": 3, "max_age": "2m", "initial_backoff": "50ms",
                      "max_backoff": "100ms", "concurrency": 2}))
        cls.ws.write_connector("urba-aged.yaml", rest_connector(
            "urba-aged", URBA, cls.app.url + "/bounded/",
            {"permit": push_endpoint("unavailable")},
            delivery={"max_attempts": 1000, "max_age": "1s", "initial_backoff": "200ms",
                      "max_backoff": "200ms", "concurrency": 2}))
        cls.ws.write_connector("etat-civil.yaml", rest_connector(
            "etat-civil", ETAT_CIVIL, cls.app.url + "/ec/", {"request": push_endpoint("requests")},
            delivery=FAST_DELIVERY))
        cls.ws.write_config(relais_config(
            clients={
                "gru": apikey_client(GRU_KEY, [URBA], {"urbanisme": "*", "urba-down": "*",
                                                        "urba-bounded": "*", "urba-aged": "*"}),
                "other": apikey_client(OTHER_KEY, [ETAT_CIVIL], {"etat-civil": "*"}),
            },
            outbox=quick_outbox(dead_letter_retention=cls.dead_letter_retention)))
        cls.relais = start_relais(cls.addClassCleanup, cls.ws)
        cls.gru = Caller(cls.relais, GRU_KEY)
        cls.other = Caller(cls.relais, OTHER_KEY)

    # -- helpers -----------------------------------------------------------

    def push(self, endpoint, body=None, params=None, headers=None, slug="urbanisme"):
        """A push that must be accepted; returns its tracking id."""
        if endpoint == "permit" and params is None:
            params = {"demand_id": "42"}
        r = self.gru.push(slug, endpoint, body if body is not None else {"last_name": "Dupont"},
                          params, headers)
        self.assertEqual(r.status, 202, r)
        body = r.json()
        self.assertEqual(set(body), {"err", "data"}, body)
        self.assertEqual(body["err"], 0)
        self.assertEqual(set(body["data"]), {"tracking_id"}, body)
        self.assertRegex(body["data"]["tracking_id"], TRACKING_ID)
        return body["data"]["tracking_id"]

    # -- the 202 and the delivered request ----------------------------------

    def test_push_answers_202_with_an_unguessable_tracking_id(self):
        ids = {self.push("permit") for _ in range(5)}
        self.assertEqual(len(ids), 5)

    def test_delivered_request_carries_idempotency_key_and_request_id(self):
        marker = uuid.uuid4().hex
        body = {"last_name": "Dupont", "marker": marker, "nested": {"a": [1, 2]}}
        tracking_id = self.push("permit", body, headers={"X-Request-ID": "push-rid-42"})
        poll_until(lambda: self.app.delivered_keys("/urba/permits") >= {tracking_id}, 20,
                   message="the push never reached the business application")
        received = self.app.attempts_of(tracking_id)
        self.assertEqual(len(received), 1, received)
        seen = received[0]
        self.assertEqual((seen.method, seen.path), ("POST", "/urba/permits"))
        self.assertEqual(seen.json(), body)
        self.assertEqual(seen.headers["content-type"], "application/json")
        self.assertEqual(seen.idempotency_key, tracking_id)
        self.assertEqual(seen.request_id, "push-rid-42")

    # -- where a delivery stands ----------------------------------------------

    def test_delivery_status_pending_then_delivered(self):
        marker = uuid.uuid4().hex
        tracking_id = self.push("slow", {"marker": marker})
        for slug in ("urbanisme", None):
            r = self.gru.delivery(tracking_id, slug)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(marker.encode(), r.body)
            data = r.json()["data"]
            self.assertEqual(data["state"], "pending", data)
            self.assertEqual(pick(data, "tracking_id", "kind", "connector", "endpoint"),
                             (tracking_id, "push", "urbanisme", "slow"))
            self.assertLessEqual({"created", "updated", "attempts"}, set(data))
        for slug in ("urbanisme", None):
            data = self.gru.wait_state(tracking_id, "delivered", slug=slug)
            self.assertEqual((data["attempts"], data["last_status"]), (1, 200), data)
            self.assertIsNone(data.get("next_attempt"), data)
            self.assertIsNone(data.get("payload_erase_at"), data)
            self.assertNotIn(marker, json.dumps(data))
        # Operators count attempts by verdict.
        metrics = self.relais.get("/_relais/metrics").body.decode()
        self.assertRegex(metrics, r'(?m)^relais_delivery_attempts_total\{connector="urbanisme",'
                                  r'kind="push",verdict="delivered"\} [1-9]')

    def test_unknown_tracking_id_is_not_found(self):
        for tracking_id in (secrets.token_hex(16), "not-a-tracking-id", "0" * 32):
            self.assert_error(self.gru.delivery(tracking_id), 404, "not-found")
            self.assert_error(self.gru.delivery(tracking_id, "urbanisme"), 404, "not-found")

    def test_another_family_never_sees_a_delivery(self):
        tracking_id = self.push("permit")
        self.gru.wait_state(tracking_id, "delivered")
        # The other client is granted only a connector of another family.
        self.assert_error(self.other.delivery(tracking_id), 404, "not-found")
        self.assert_error(self.other.delivery(tracking_id, "etat-civil"), 404, "not-found")
        self.assert_error(self.other.delivery(tracking_id, "urbanisme"), 403, "not-granted")
        # Nor is a message of one connector reachable through another one.
        self.assert_error(self.gru.delivery(tracking_id, "urba-down"), 404, "not-found")
        other_id = self.other.push("etat-civil", "request", {"x": 1}).json()["data"]["tracking_id"]
        self.assert_error(self.gru.delivery(other_id), 404, "not-found")
        self.assertEqual(self.other.delivery(other_id).status, 200)

    # -- idempotency ------------------------------------------------------------

    def test_client_idempotency_key_returns_the_same_tracking_id(self):
        key = "client-key-" + uuid.uuid4().hex
        headers = {"Idempotency-Key": key}
        first = self.push("permit", headers=headers)
        second = self.push("permit", headers=headers)
        self.assertEqual(first, second)
        self.gru.wait_state(first, "delivered")
        # Asked again after delivery: still the same message, nothing sent.
        self.assertEqual(self.push("permit", headers=headers), first)
        different = self.push("permit", headers={"Idempotency-Key": key + "-2"})
        self.assertNotEqual(different, first)
        self.gru.wait_state(different, "delivered")
        self.assertEqual(len(self.app.attempts_of(first)), 1)
        self.assertEqual(len(self.app.attempts_of(different)), 1)

    # -- refusals store nothing ---------------------------------------------------

    def test_refused_pushes_store_nothing(self):
        before = self.outbox_cli("list", "--connector", "urbanisme", "--limit", "100000")
        self.assertEqual(before.returncode, 0, before.stderr)
        marker = uuid.uuid4().hex
        self.assert_error(self.gru.push("urbanisme", "permit", {"last_name": "", "m": marker},
                                        {"demand_id": "1"}), 400, "invalid-body")
        self.assert_error(self.gru.push("urbanisme", "permit", {"last_name": marker}),
                          400, "missing-parameter")
        self.assert_error(self.gru.push("urbanisme", "permit", {"last_name": marker},
                                        {"demand_id": "x" + marker}), 400, "invalid-parameter")
        self.assert_error(self.gru.push("urbanisme", "permit", '{"last_name": ',
                                        {"demand_id": "1"}), 400, "invalid-json")
        # A push accepted afterwards is delivered; the refused ones never were.
        tracking_id = self.push("permit")
        self.gru.wait_state(tracking_id, "delivered")
        self.assertFalse([r for r in self.app.requests() if marker.encode() in r.body])
        after = self.outbox_cli("list", "--connector", "urbanisme", "--limit", "100000")
        self.assertEqual(after.returncode, 0, after.stderr)
        known = {row["tracking_id"] for row in cli_rows(before.stdout)}
        new_ids = [row["tracking_id"] for row in cli_rows(after.stdout)
                   if row["tracking_id"] not in known]
        self.assertEqual(new_ids, [tracking_id], after.stdout)

    # -- retries ------------------------------------------------------------------

    def test_upstream_down_then_back_all_delivered(self):
        self.down_app.go_down()
        self.addCleanup(self.down_app.come_up)
        ids = [self.push("permit", {"n": n}, slug="urba-down") for n in range(20)]
        # Down for longer than the first retries of every message.
        for tracking_id in ids:
            poll_until(lambda: self.gru.delivery(tracking_id).json()["data"]["attempts"] >= 3, 20,
                       message=f"{tracking_id} was not retried while the upstream was down")
        for tracking_id in ids:
            data = self.gru.delivery(tracking_id).json()["data"]
            self.assertEqual(data["state"], "pending", data)
            self.assertEqual(data["error_class"], "upstream-unreachable", data)
            self.assertIsNotNone(data.get("next_attempt"), data)
        back = time.monotonic()
        self.down_app.come_up()
        poll_until(lambda: self.down_app.delivered_keys() >= set(ids), 15,
                   message="not every message was delivered once the upstream came back")
        self.assertLess(time.monotonic() - back, 15)
        for tracking_id in ids:
            self.assertEqual(self.gru.wait_state(tracking_id, "delivered")["last_status"], 200)
        bodies = sorted(r.json()["n"] for r in self.down_app.delivered())
        self.assertEqual(sorted(set(bodies)), list(range(20)))

    def test_retries_end_at_max_attempts(self):
        tracking_id = self.push("permit", slug="urba-bounded")
        data = self.gru.wait_state(tracking_id, "dead", slug="urba-bounded")
        self.assertEqual(pick(data, "attempts", "last_status", "error_class"),
                         (3, 503, "max-attempts"), data)
        self.assertEqual(len(self.app.attempts_of(tracking_id)), 3)

    def test_retries_end_at_max_age(self):
        tracking_id = self.push("permit", slug="urba-aged")
        data = self.gru.wait_state(tracking_id, "dead", slug="urba-aged")
        self.assertEqual(pick(data, "last_status", "error_class"), (503, "max-age"), data)
        self.assertGreaterEqual(data["attempts"], 2, data)

    def test_retry_after_is_honoured(self):
        tracking_id = self.push("limited", {"x": 1})
        data = self.gru.wait_state(tracking_id, "delivered", timeout=RETRY_AFTER + 15)
        self.assertEqual(data["attempts"], 2, data)
        first, second = self.app.attempts_of(tracking_id)
        self.assertEqual((first.status, second.status), (429, 200))
        # Without Retry-After the next attempt would come within 100 ms.
        self.assertGreaterEqual(second.at - first.at, RETRY_AFTER - 0.05)

    # -- dead letters -------------------------------------------------------------

    def wait_dead_after_one_attempt(self, endpoint):
        tracking_id = self.push(endpoint, {"x": 1})
        data = self.gru.wait_state(tracking_id, ("dead", "delivered"))
        self.assertEqual(data["state"], "dead", data)
        self.assertEqual((data["attempts"], data["last_status"], data["error_class"]),
                         (1, 400, "upstream-error"), data)
        self.assertEqual(len(self.app.attempts_of(tracking_id)), 1)
        return tracking_id, data

    def test_outbox_cli_on_a_dead_letter(self):
        tracking_id, data = self.wait_dead_after_one_attempt("fixable")
        self.assertIsNotNone(data.get("payload_erase_at"), data)
        listed = self.outbox_cli("list", "--state", "dead")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        row = [row for row in cli_rows(listed.stdout) if row["tracking_id"] == tracking_id]
        self.assertEqual(len(row), 1, listed.stdout)
        self.assertEqual(pick(row[0], "family", "kind", "connector", "endpoint", "state",
                              "attempts", "last_status", "error_class"),
                         (URBA, "push", "urbanisme", "fixable", "dead", "1", "400",
                          "upstream-error"))
        shown = self.show(tracking_id)
        self.assertEqual((shown["state"], shown["has_payload"], shown["family"]),
                         ("dead", True, URBA), shown)
        self.assertIsNotNone(shown.get("payload_erase_at"), shown)
        # The business application is fixed; the operator retries.
        self.app.rules["/urba/fixable"] = Behaviour()
        retried = self.outbox_cli("retry", tracking_id)
        self.assertEqual(retried.returncode, 0, retried.stderr)
        self.gru.wait_state(tracking_id, "delivered")
        self.assertEqual([r.status for r in self.app.attempts_of(tracking_id)], [400, 200])
        shown = self.show(tracking_id)
        self.assertEqual((shown["state"], shown["has_payload"]), ("delivered", False), shown)
        # Only dead letters with a payload can be retried.
        self.assertEqual(self.outbox_cli("retry", tracking_id).returncode, 1)
        self.assertEqual(self.outbox_cli("retry", secrets.token_hex(16)).returncode, 1)

        dropped_id, _ = self.wait_dead_after_one_attempt("reject")
        dropped = self.outbox_cli("drop", dropped_id)
        self.assertEqual(dropped.returncode, 0, dropped.stderr)
        self.assertEqual(self.outbox_cli("show", dropped_id).returncode, 1)
        self.assert_error(self.gru.delivery(dropped_id), 404, "not-found")
        self.assertEqual(self.outbox_cli("drop", dropped_id).returncode, 1)


class DeadLetterErasureTest(DeliveryTestMixin, unittest.TestCase):
    """A short dead_letter_retention: the payload of a dead letter is erased."""

    @classmethod
    def setUpClass(cls):
        cls.app = enter(cls.addClassCleanup, PushUpstream())
        cls.app.default = Behaviour(status=400)
        cls.ws = enter(cls.addClassCleanup, Workspace())
        cls.ws.write_connector("urbanisme.yaml", rest_connector(
            "urbanisme", URBA, cls.app.url + "/urba/", {"reject": push_endpoint("reject")},
            delivery=FAST_DELIVERY))
        cls.ws.write_config(relais_config(
            clients={"gru": apikey_client(GRU_KEY, [URBA], {"urbanisme": "*"})},
            outbox=quick_outbox(dead_letter_retention="1s")))
        cls.relais = start_relais(cls.addClassCleanup, cls.ws)
        cls.gru = Caller(cls.relais, GRU_KEY)

    def test_always_400_is_dead_after_one_attempt_then_its_payload_erased(self):
        r = self.gru.push("urbanisme", "reject", {"x": 1})
        self.assertEqual(r.status, 202, r)
        tracking_id = r.json()["data"]["tracking_id"]
        data = self.gru.wait_state(tracking_id, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "attempts", "last_status", "error_class"),
                         ("dead", 1, 400, "upstream-error"), data)
        shown = poll_until(lambda: (lambda s: s if not s["has_payload"] else None)(
            self.show(tracking_id)), 10, interval=0.1, message="the dead letter kept its payload")
        self.assertEqual(shown["state"], "dead", shown)
        self.assertIsNone(shown.get("payload_erase_at"), shown)
        # Its metadata stays for the operator; nothing can be retried.
        data = self.gru.wait_state(tracking_id, "dead")
        self.assertIsNone(data.get("payload_erase_at"), data)
        r = self.outbox_cli("retry", tracking_id)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(len(self.app.attempts_of(tracking_id)), 1)


if __name__ == "__main__":
    unittest.main()
