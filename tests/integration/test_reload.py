"""SIGHUP: the configuration is reloaded under load without failing a
request; an invalid one is logged and the running one kept."""
import signal
import threading
import time
import unittest

import test_server
from test_server import API_KEY, echo_connector, metric_value, relais_yaml


class LoadLoop:
    """Calls relais in a loop on keep-alive connections, counting outcomes."""

    def __init__(self, relais, path, fresh_connections=False):
        self.relais = relais
        self.path = path
        self.fresh_connections = fresh_connections
        self.ok = 0
        self.failures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None:
                    conn = self.relais.connection(timeout=10)
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    self.ok += 1
                else:
                    self.failures.append(r.status)
                if self.fresh_connections or r.getheader("connection") == "close":
                    conn.close()
                    conn = None
            except Exception as error:  # every failure counts
                self.failures.append(repr(error))
                conn = None
        if conn is not None:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(10)


class Reload(test_server.ServerTestCase):
    def reloads(self, result):
        text = self.relais.get("/_relais/metrics").body.decode()
        return metric_value(text, f'relais_config_reloads_total{{result="{result}"}}')

    def test_a_reload_signal_while_starting_waits_for_the_server(self):
        # systemctl reload may race the start: the SIGHUP must not kill the
        # process (its default action), only reload once relais serves.
        def hup_once_held(proc):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
                    held = next(int(line.split()[1], 16) for line in status
                                if line.startswith("SigBlk:"))
                if held & (1 << (signal.SIGHUP - 1)):
                    proc.send_signal(signal.SIGHUP)
                    return
                time.sleep(0.0005)
            self.fail("relais never held SIGHUP while starting")

        # Many connectors: the start lasts long enough to be caught.
        connectors = {f"echo{i}": echo_connector(f"echo{i}") for i in range(300)}
        self.start(connectors=connectors, grants=tuple(connectors),
                   while_starting=hup_once_held)
        self.relais.wait_for_log(lambda line: line.get("event") == "config_reloaded")
        self.assertEqual(self.relais.get("/_relais/health").status, 200)

    def test_reload_under_load_adds_a_connector(self):
        self.start()
        self.assertEqual(self.call("/test-echo/echo2/echo").status, 404)
        with LoadLoop(self.relais, f"/test-echo/echo/sleep?ms=5&apikey={API_KEY}") as load:
            time.sleep(0.3)
            self.ws.write_connector("echo2.yaml", echo_connector("echo2"))
            self.ws.write_config(relais_yaml(grants=("echo", "echo2")))
            self.relais.signal(signal.SIGHUP)
            self.relais.wait_for_log(lambda l: l.get("event") == "config_reloaded")
            time.sleep(0.3)
            self.assertEqual(self.call("/test-echo/echo2/echo").status, 200)
            # Then a broken configuration: logged, and the running one stays.
            self.ws.write_connector("echo3.yaml", "slug: echo3\nkind: test-echo\n")
            self.relais.signal(signal.SIGHUP)
            self.relais.wait_for_log(lambda l: l.get("event") == "reload_failed")
            time.sleep(0.3)
        self.assertEqual(load.failures, [])
        self.assertGreater(load.ok, 20)
        self.assertTrue(any(l.get("event") == "config_error" and l["file"].endswith("echo3.yaml")
                            for l in self.relais.log_lines()))
        self.assertEqual(self.call("/test-echo/echo2/echo").status, 200)
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)
        self.assertEqual((self.reloads("ok"), self.reloads("error")), (1, 1))

    def test_repeated_reloads_under_concurrent_load(self):
        self.start()
        path = f"/test-echo/echo/sleep?ms=2&apikey={API_KEY}"
        loops = [LoadLoop(self.relais, path, fresh_connections=(i % 2 == 0)) for i in range(6)]
        for loop in loops:
            loop.__enter__()
        try:
            for round_ in range(8):
                grants = ("echo", "echo2") if round_ % 2 == 0 else ("echo",)
                if round_ % 2 == 0:
                    self.ws.write_connector("echo2.yaml", echo_connector("echo2"))
                self.ws.write_config(relais_yaml(grants=grants))
                self.relais.signal(signal.SIGHUP)
                time.sleep(0.15)
        finally:
            for loop in loops:
                loop.__exit__()
        self.assertEqual([f for loop in loops for f in loop.failures], [])
        self.assertGreater(sum(loop.ok for loop in loops), 100)
        self.assertEqual(self.reloads("error"), 0)
        self.assertGreaterEqual(self.reloads("ok"), 1)

    def test_requests_in_flight_finish_on_the_old_configuration(self):
        self.start()
        slow = {}
        caller = threading.Thread(
            target=lambda: slow.update(status=self.call("/test-echo/echo/sleep?ms=800").status))
        caller.start()
        time.sleep(0.2)
        self.ws.write_connector("echo.yaml", echo_connector("renamed"))
        self.ws.write_config(relais_yaml(grants=("renamed",)))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda l: l.get("event") == "config_reloaded")
        caller.join(10)
        self.assertEqual(slow.get("status"), 200)
        self.assertEqual(self.call("/test-echo/echo/echo").status, 404)
        self.assertEqual(self.call("/test-echo/renamed/echo").status, 200)

    def test_invalid_configuration_keeps_the_running_one(self):
        self.start()
        self.ws.write_connector("broken.yaml",
                                "slug: broken\nkind: test-echo\nfamily: reference\n"
                                "endpoints:\n  echo: {}\nenpoints: {}\n")
        self.relais.signal(signal.SIGHUP)
        failed = self.relais.wait_for_log(lambda l: l.get("event") == "reload_failed")
        self.assertGreaterEqual(failed["errors"], 1)
        error = self.relais.wait_for_log(lambda l: l.get("event") == "config_error")
        self.assertEqual(error["level"], "error")
        self.assertTrue(error["file"].endswith("broken.yaml"), error)
        self.assertGreater(error["line"], 0)
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)
        self.assertEqual(self.reloads("error"), 1)
        self.assertEqual(self.reloads("ok"), 0)
        self.assertEqual(self.relais.get("/_relais/ready").status, 200)

    def test_listener_changes_need_a_restart(self):
        self.start()
        self.ws.write_config(relais_yaml(server_lines=["threads: 3",
                                                       "limits: {max_connections: 5}"]))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda l: l.get("event") == "config_reloaded")
        warning = self.relais.wait_for_log(lambda l: l.get("event") == "restart_needed")
        self.assertEqual(warning["setting"], "server.threads")
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)

    def test_reload_changes_the_log_level(self):
        self.start()

        def reload_with(level):
            # The reload's own log line may be below the new level: wait on
            # the reload counter instead.
            self.ws.write_config(relais_yaml(log_level=level))
            done = self.reloads("ok")
            self.relais.signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while self.reloads("ok") == done and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(self.reloads("ok"), done + 1)

        def request_lines():
            return len([l for l in self.relais.log_lines() if l.get("event") == "request"])

        reload_with("warn")
        before = request_lines()
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)
        self.assertEqual(request_lines(), before)
        reload_with("info")
        self.assertEqual(self.call("/test-echo/echo/echo").status, 200)
        self.relais.wait_for_log(lambda l: request_lines() == before + 1)

    def test_secret_in_a_broken_reload_is_not_logged(self):
        self.start()
        secret = "S3CRET-reload-value"
        self.ws.write_config(relais_yaml().replace(f"apikey: '{API_KEY}'",
                                                   f"apikey: ['{secret}']"))
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda l: l.get("event") == "reload_failed")
        self.assertNotIn(secret, self.relais.stderr_text())


if __name__ == "__main__":
    unittest.main()
