"""The outbox on a full disk. relais must refuse the pushes it cannot store
(503 outbox-unavailable: never a 202 for a push it could not keep), go on
serving, lose none of the pushes it accepted, and catch up once space is
back, without leaving a push's text on the disk in the clear.

The data directory is a 1 MiB tmpfs, filled by a file. Mounting it needs
CAP_SYS_ADMIN (root on a machine, not every container): without it the test
is skipped, and ctest reports it so.
"""
import os
import subprocess
import unittest

from async_relais import Caller, DeliveryTestMixin, write_one_push_connector
from push_upstream import Behaviour, PushUpstream
from relais_harness import Workspace, enter, poll_until, start_relais, written_bytes

API_KEY = "disk-full-key"
FAMILY = "economie-urbanisme"
CANARY = "CANARY-DISK-FULL-6b1f"


class DiskFullTest(DeliveryTestMixin, unittest.TestCase):
    def setUp(self):
        self.app = enter(self.addCleanup, PushUpstream())
        self.ws = enter(self.addCleanup, Workspace())
        os.makedirs(self.ws.data)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", self.ws.data],
            capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs CAP_SYS_ADMIN): "
                          + mounted.stderr.strip())
        # Cleanups run last first: relais stops, then the tmpfs goes, then
        # the workspace.
        self.addCleanup(subprocess.run, ["umount", "--lazy", self.ws.data], check=True)
        write_one_push_connector(
            self.ws, "full", FAMILY, self.app.url, API_KEY,
            {"max_attempts": 500, "max_age": "10m", "initial_backoff": "50ms",
             "max_backoff": "300ms", "concurrency": 4})
        self.relais = start_relais(self.addCleanup, self.ws)
        self.caller = Caller(self.relais, API_KEY)
        self.filler = os.path.join(self.ws.data, "filler")

    def push(self, seq):
        return self.caller.push("full", "permit", {"seq": seq, "name": CANARY, "pad": "x" * 1500})

    def fill_the_disk(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, bytes(4096))
        except OSError as error:
            self.assertEqual(error.errno, 28, error)  # ENOSPC
        finally:
            os.close(fd)

    def test_nothing_accepted_is_lost_and_nothing_unstorable_is_accepted(self):
        # The application refuses for now: the accepted pushes stay pending.
        self.app.default = Behaviour(status=503)
        accepted = {}
        for seq in range(5):
            r = self.push(seq)
            self.assertEqual(r.status, 202, r)
            accepted[seq] = r.json()["data"]["tracking_id"]

        self.fill_the_disk()
        # The application comes back while the disk is full: relais delivers
        # but cannot record it, and so delivers again, under the same key,
        # after a pause that doubles while the disk stays full.
        self.app.default = Behaviour()
        # SQLite may still fit a write into its files now and then (and a
        # checkpoint may give a little room back): each push is stored or
        # refused, and most are refused.
        refused = []
        for seq in range(5, 45):
            r = self.push(seq)
            if r.status == 202:
                accepted[seq] = r.json()["data"]["tracking_id"]
            else:
                refused.append(self.assert_error(r, 503, "outbox-unavailable")["err_desc"])
        self.assertGreater(len(refused), 20, "pushes were accepted on a full disk")
        self.assertEqual(set(refused), {"the outbox is unavailable; try again later"})

        def gaps():
            """Between two deliveries of the same push, in seconds."""
            times = {}
            for request in self.app.delivered():
                times.setdefault(request.idempotency_key, []).append(request.at)
            return [b - a for at in times.values() for a, b in zip(at, at[1:])]
        # A write may still succeed now and then (SQLite reuses its WAL), so
        # the gaps need not double exactly; with a fixed pause none would
        # ever reach 1.8 s.
        poll_until(lambda: max(gaps(), default=0) >= 1.8, 20,
                   message=lambda: f"redeliveries were not spaced out: {sorted(gaps())}")
        # Not much under a pause either: an attempt that was still on its way
        # when another one failed and started the pause may be a little late.
        self.assertGreater(min(gaps()), 0.5, "a push was delivered again before a pause ended")
        self.assertEqual(self.relais.get("/_relais/health").status, 200)

        os.remove(self.filler)
        def stored():
            r = self.push(1000)
            if r.status == 503:
                return None
            self.assertEqual(r.status, 202, r)
            return r.json()["data"]["tracking_id"]
        accepted[1000] = poll_until(stored, 10, interval=0.2,
                                    message="pushes still refused once space was back")

        expected = set(accepted.values())
        poll_until(lambda: self.app.delivered_keys() >= expected, 20,
                   message=lambda: f"{len(expected - self.app.delivered_keys())} accepted "
                                   "pushes never reached the application")
        for state in ("pending", "dead"):
            poll_until(lambda: self.outbox_rows(state) == 0, 20, interval=0.2,
                       message=f"messages left {state}")
        # Each push under the key it was given, and no refused push delivered.
        keys_of = {}
        for request in self.app.delivered():
            keys_of.setdefault(request.json()["seq"], set()).add(request.idempotency_key)
        self.assertEqual(keys_of, {seq: {key} for seq, key in accepted.items()})

        self.assertEqual(self.relais.stop(), 0)
        self.assertNotIn(CANARY.encode(), written_bytes(self.ws, skip=("connectors",)))


if __name__ == "__main__":
    unittest.main()
