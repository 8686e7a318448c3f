"""Crash proof of the outbox (issue 3): thousands of async pushes to a slow
business application that fails a fifth of the time, relais killed with
SIGKILL at a random moment, restarted on the same data directory (same key
file). Every push that got a 202 must reach the business application, and
no push may reach it under two idempotency keys (a redelivery carries the
same key, which the application can recognise).

Kill points are drawn at random from a seed printed with the results (set
RELAIS_CRASH_SEED to it to reproduce a run): during the pushes, during the
deliveries, and both in one run.
"""
import http.client
import json
import os
import random
import sys
import threading
import time
import unittest

from async_relais import TRACKING_ID, DeliveryTestMixin, write_one_push_connector
from push_upstream import Behaviour, PushUpstream
from relais_harness import Workspace, enter, poll_until, start_relais

PUSHES = 2048
CLIENT_THREADS = 16
API_KEY = "crash-test-key"
FAMILY = "economie-urbanisme"
BASE_SEED = int(os.environ.get("RELAIS_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))


class Pushers:
    """CLIENT_THREADS keep-alive clients pushing bodies {"seq": i} for i in
    range(total). A push whose connection breaks while relais is down (or
    was killed since it was sent) is "unanswered": it need not arrive."""

    def __init__(self, relais, total, on_accepted):
        self.relais = relais
        self.accepted = {}      # seq -> tracking id
        self.unanswered = set()
        self.unexpected = []    # anything but a 202 or a kill
        self.up = threading.Event()
        self.up.set()
        self.generation = 0     # incremented at each kill
        self._on_accepted = on_accepted
        self._lock = threading.Lock()
        self._next = iter(range(total))
        self._threads = [threading.Thread(target=self._work, daemon=True)
                         for _ in range(CLIENT_THREADS)]

    def start(self):
        for thread in self._threads:
            thread.start()

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _take(self):
        with self._lock:
            return next(self._next, None)

    def _work(self):
        conn = None
        conn_generation = 0
        headers = {"Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"}
        while (seq := self._take()) is not None:
            if not self.up.wait(60):
                self.unexpected.append((seq, "relais never came back"))
                return
            generation = self.generation
            if conn is not None and conn_generation != generation:
                # A connection to the killed process: never reused.
                conn.close()
                conn = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.relais.port, timeout=30)
                    conn_generation = generation
                conn.request("POST", "/rest/crash/permit", body=json.dumps({"seq": seq}),
                             headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                if conn is not None:
                    conn.close()
                    conn = None
                with self._lock:
                    if generation != self.generation or not self.up.is_set():
                        self.unanswered.add(seq)
                    else:
                        self.unexpected.append((seq, repr(error)))
                continue
            if response.status != 202:
                self.unexpected.append((seq, response.status, body[:200]))
                continue
            tracking_id = json.loads(body)["data"]["tracking_id"]
            with self._lock:
                self.accepted[seq] = tracking_id
                count = len(self.accepted)
            self._on_accepted(count)
        if conn is not None:
            conn.close()


class CrashTest(DeliveryTestMixin, unittest.TestCase):
    def setUp(self):
        self.app = enter(self.addCleanup, PushUpstream())
        self.ws = enter(self.addCleanup, Workspace())
        write_one_push_connector(
            self.ws, "crash", FAMILY, self.app.url, API_KEY,
            {"max_attempts": 200, "max_age": "10m", "initial_backoff": "50ms",
             "max_backoff": "500ms", "concurrency": 16})
        self.relais = start_relais(self.addCleanup, self.ws)

    def crash_and_restart(self, pushers):
        with pushers._lock:
            pushers.up.clear()
            pushers.generation += 1
        self.relais.kill()
        self.relais.start()
        pushers.up.set()

    def run_scenario(self, seed, kill_during_pushes, kill_during_delivery):
        rng = random.Random(seed)
        self.app.default = Behaviour(delay=0.003, fail_rate=0.2, fail_status=503, seed=seed)
        push_kill_at = rng.randint(PUSHES // 10, PUSHES * 8 // 10) if kill_during_pushes else None
        delivery_kill_share = rng.uniform(0.1, 0.8) if kill_during_delivery else None
        print(f"\ncrash seed {seed}: kill after {push_kill_at} accepted pushes, "
              f"then at {delivery_kill_share} of deliveries", file=sys.stderr)

        kill_now = threading.Event()
        pushers = Pushers(self.relais, PUSHES,
                          lambda count: push_kill_at is not None and count == push_kill_at
                          and kill_now.set())
        started = time.monotonic()
        pushers.start()
        if push_kill_at is not None:
            self.assertTrue(kill_now.wait(120), "the kill point was never reached")
            self.crash_and_restart(pushers)
        self.assertTrue(pushers.join(120), "the pushes did not finish")
        self.assertEqual(pushers.unexpected, [])
        accepted = dict(pushers.accepted)
        self.assertGreaterEqual(len(accepted), PUSHES - 2 * CLIENT_THREADS)
        for tracking_id in accepted.values():
            self.assertRegex(tracking_id, TRACKING_ID)
        self.assertEqual(len(set(accepted.values())), len(accepted))

        if delivery_kill_share is not None:
            target = int(len(accepted) * delivery_kill_share)
            poll_until(lambda: len(self.app.delivered_keys()) >= target, 120, interval=0.005,
                       message="deliveries stalled before the kill point")
            self.crash_and_restart(pushers)

        expected = set(accepted.values())
        poll_until(lambda: self.app.delivered_keys() >= expected, 150, interval=0.1,
                   message=lambda: f"{len(expected - self.app.delivered_keys())} pushes that got "
                                   "a 202 never reached the business application")
        elapsed = time.monotonic() - started

        # No push reached the business application under two keys, and each
        # 202'd push arrived under the tracking id it was given.
        keys_of = {}
        for request in self.app.delivered():
            self.assertEqual(request.path, "/crash/permits")
            keys_of.setdefault(request.json()["seq"], set()).add(request.idempotency_key)
        for seq, keys in keys_of.items():
            self.assertEqual(len(keys), 1, f"push {seq} delivered under several keys: {keys}")
            if seq in accepted:
                self.assertEqual(keys, {accepted[seq]})
        self.assertEqual(len(keys_of), len(self.app.delivered_keys()))
        # relais agrees: nothing left pending, nothing given up.
        for state in ("pending", "dead"):
            poll_until(lambda: self.outbox_rows(state) == 0, 30, interval=0.2,
                       message=f"messages left {state}")
        print(f"crash seed {seed}: {len(accepted)} accepted, {len(pushers.unanswered)} unanswered, "
              f"{self.app.duplicates()} redeliveries with the same key, "
              f"{len(self.app.requests())} upstream requests, {elapsed:.1f} s", file=sys.stderr)

    def test_kill_during_pushes(self):
        self.run_scenario(BASE_SEED + 1, kill_during_pushes=True, kill_during_delivery=False)

    def test_kill_during_deliveries(self):
        self.run_scenario(BASE_SEED + 2, kill_during_pushes=False, kill_during_delivery=True)

    def test_kill_during_pushes_then_during_deliveries(self):
        self.run_scenario(BASE_SEED + 3, kill_during_pushes=True, kill_during_delivery=True)


if __name__ == "__main__":
    unittest.main()
