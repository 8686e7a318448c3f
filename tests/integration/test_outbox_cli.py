"""`relais outbox list|show|retry|drop`: the operator's view of the outbox,
metadata only, used while the daemon runs."""
import json
import os
import subprocess
import unittest

from fake_upstream import FakeUpstream
from relais_harness import PLUGIN_DIR, RELAIS_BIN, Workspace, enter, poll_until, start_relais

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
HEADER = ("tracking_id\tfamily\tkind\tconnector\tendpoint\tstate\tattempts\tlast_status\t"
          "error_class\tcreated\tupdated")
CANARY = "CANARY-outbox-cli-5b1e"


def relais(*args):
    return subprocess.run([RELAIS_BIN, *args], capture_output=True, text=True, timeout=30)


class Usage(unittest.TestCase):
    def setUp(self):
        self.ws = enter(self.addCleanup, Workspace())
        self.ws.write_config("paths: {connectors: connectors, data: var}\n")

    def test_every_subcommand_has_help(self):
        result = relais("outbox", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("usage: relais outbox", result.stdout)
        for command in ("list", "show", "retry", "drop"):
            with self.subTest(command=command):
                result = relais("outbox", command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("usage: relais outbox " + command, result.stdout)
        self.assertIn("outbox", relais("--help").stdout)

    def test_usage_errors_exit_2(self):
        config = self.ws.config
        cases = [
            (),
            ("frobnicate",),
            ("list",),
            ("list", "--config", config, "--state", "lost"),
            ("list", "--config", config, "--limit", "0"),
            ("list", "--config", config, "--limit", "ten"),
            ("list", "--config", config, "--family", "../etat-civil"),
            ("list", "--config", config, "extra"),
            ("show", "--config", config),
            ("show", "--config", config, "not-a-tracking-id"),
            ("retry", UNKNOWN_ID),
            ("drop", "--config", config, UNKNOWN_ID, UNKNOWN_ID),
        ]
        for args in cases:
            with self.subTest(args=args):
                result = relais("outbox", *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("usage: relais outbox", result.stderr)

    def test_unreadable_config_exits_1_with_its_errors(self):
        result = relais("outbox", "list", "--config", os.path.join(self.ws.root, "none.yaml"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("none.yaml", result.stderr)

    def test_empty_data_directory(self):
        result = relais("outbox", "list", "--config", self.ws.config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, HEADER + "\n")
        for command in ("show", "retry", "drop"):
            with self.subTest(command=command):
                result = relais("outbox", command, "--config", self.ws.config, UNKNOWN_ID)
                self.assertEqual(result.returncode, 1)
                self.assertIn("no message " + UNKNOWN_ID, result.stderr)
        self.assertFalse(os.path.exists(self.ws.data), "the CLI creates nothing")

    def test_reads_no_secret_but_the_data_directory(self):
        # The daemon's secrets come from its unit's environment; the
        # operator's shell has none of them, and needs none.
        os.makedirs(os.path.join(self.ws.root, "elsewhere"))
        self.ws.write_config(
            "paths: {connectors: connectors, data: '${env:RELAIS_IT_DATA}'}\n"
            "outbox: {key: '${env:RELAIS_IT_UNSET_OUTBOX_KEY}'}\n"
            "gru: {url: 'https://gru.example.org/', orig: relais, "
            "key: '${file:/nonexistent/gru.key}'}\n")
        env = dict(os.environ, RELAIS_IT_DATA="elsewhere")
        result = subprocess.run([RELAIS_BIN, "outbox", "list", "--config", self.ws.config],
                                capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual((result.returncode, result.stdout), (0, HEADER + "\n"), result.stderr)
        result = subprocess.run([RELAIS_BIN, "outbox", "list", "--config", self.ws.config],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn("RELAIS_IT_DATA", result.stderr)

    def test_an_outbox_that_cannot_be_read_is_not_an_empty_one(self):
        os.makedirs(self.ws.data)
        with open(os.path.join(self.ws.data, "outbox"), "w", encoding="ascii") as f:
            f.write("not a directory\n")
        for args in (("list",), ("show", UNKNOWN_ID)):
            with self.subTest(args=args):
                result = relais("outbox", args[0], "--config", self.ws.config, *args[1:])
                self.assertEqual((result.returncode, result.stdout), (1, ""), result.stderr)
                self.assertIn("cannot be read", result.stderr)


class DeadLetters(unittest.TestCase):
    """A push the business application refuses, then an operator at work
    while the daemon runs."""

    def setUp(self):
        self.fake = enter(self.addCleanup, FakeUpstream())
        self.fake.routes["/json/permits"] = (400, {}, {"error": "refused"})
        self.ws = enter(self.addCleanup, Workspace())
        self.ws.write_connector("urba.yaml", json.dumps({
            "slug": "urba", "kind": "rest", "family": "economie-urbanisme",
            "upstream": {"base_url": self.fake.url + "/", "timeout": "5s"},
            "endpoints": {"permit": {
                "method": "POST", "async": True, "body_schema": {"type": "object"},
                "request": {"method": "POST", "path": "json/permits", "body": "{body:}"}}}}))
        self.ws.write_config(
            "server: {listen: \"127.0.0.1:0\", threads: 1}\n"
            f"paths: {{connectors: connectors, plugins: \"{PLUGIN_DIR}\", data: var}}\n"
            "outbox: {poll_interval: 100ms}\n"
            "clients:\n"
            "  wcs: {apikey: cli-key, families: [economie-urbanisme], grants: {urba: \"*\"}}\n")
        self.relais = start_relais(self.addCleanup, self.ws)
        self.outputs = []

    def outbox(self, *args):
        result = relais("outbox", args[0], "--config", self.ws.config, *args[1:])
        self.outputs.append(result.stdout + result.stderr)
        return result

    def rows(self, *args):
        result = self.outbox("list", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], HEADER)
        return [dict(zip(HEADER.split("\t"), line.split("\t"))) for line in lines[1:]]

    def show(self, tracking_id):
        result = self.outbox("show", tracking_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_list_show_retry_drop(self):
        response = self.relais.post("/rest/urba/permit?apikey=cli-key", {"name": CANARY})
        self.assertEqual(response.status, 202, response)
        tracking_id = response.json()["data"]["tracking_id"]
        poll_until(lambda: self.rows("--state", "dead"), 10, message="no dead letter")

        [row] = self.rows()
        self.assertEqual(row["tracking_id"], tracking_id)
        self.assertEqual(row["family"], "economie-urbanisme")
        self.assertEqual((row["kind"], row["connector"], row["endpoint"]), ("push", "urba", "permit"))
        self.assertEqual((row["state"], row["attempts"], row["last_status"]), ("dead", "1", "400"))
        self.assertEqual(row["error_class"], "upstream-error")
        self.assertRegex(row["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(self.rows("--state", "pending"), [])
        self.assertEqual(self.rows("--connector", "other"), [])
        self.assertEqual(len(self.rows("--family", "economie-urbanisme", "--limit", "1")), 1)
        self.assertEqual(self.rows("--family", "sante"), [])

        shown = self.show(tracking_id)
        self.assertEqual(shown["state"], "dead")
        self.assertEqual(shown["family"], "economie-urbanisme")
        self.assertTrue(shown["has_payload"])
        self.assertIn("payload_erase_at", shown)
        self.assertEqual(shown["last_status"], 400)

        self.fake.routes["/json/permits"] = (200, {}, {"id": "PC-1"})
        result = self.outbox("retry", tracking_id)
        self.assertEqual(result.returncode, 0, result.stderr)
        poll_until(lambda: self.rows("--state", "delivered"), 10, message="not delivered")
        delivered = self.show(tracking_id)
        self.assertFalse(delivered["has_payload"])
        self.assertEqual(delivered["attempts"], 1)
        self.assertEqual(len([r for r in self.fake.requests if r.path == "/json/permits"]), 2)

        result = self.outbox("retry", tracking_id)
        self.assertEqual(result.returncode, 1)
        self.assertIn("only dead letters can be retried", result.stderr)

        self.assertEqual(self.outbox("drop", tracking_id).returncode, 0)
        self.assertEqual(self.outbox("show", tracking_id).returncode, 1)
        self.assertEqual(self.outbox("drop", tracking_id).returncode, 1)
        self.assertEqual(self.rows(), [])
        for output in self.outputs:
            self.assertNotIn(CANARY, output)

    def test_a_damaged_database_stops_relais_and_names_the_file(self):
        response = self.relais.post("/rest/urba/permit?apikey=cli-key", {"name": CANARY})
        tracking_id = response.json()["data"]["tracking_id"]
        poll_until(lambda: self.rows("--state", "dead"), 10, message="no dead letter")
        self.assertEqual(self.relais.stop(), 0)
        database = os.path.join(self.ws.data, "outbox", "economie-urbanisme.sqlite")
        with open(database, "rb") as f:
            intact = f.read()
        with open(database, "r+b") as f:
            f.write(b"not a database!\0")
        # Not started on an outbox it cannot read: its messages would be
        # lost for good if relais began a new database instead.
        with self.assertRaises(RuntimeError) as refused:
            self.relais.start()
        self.assertIn(f"outbox database {database}: cannot prepare statement: "
                      "file is not a database", str(refused.exception))
        result = self.outbox("list")
        self.assertEqual((result.returncode, result.stdout), (1, ""), result.stderr)
        self.assertIn(database, result.stderr)
        # The file put back, everything is there again.
        with open(database, "wb") as f:
            f.write(intact)
        self.relais.start()
        self.assertEqual([row["tracking_id"] for row in self.rows("--state", "dead")], [tracking_id])
        for output in self.outputs:
            self.assertNotIn(CANARY, output)


if __name__ == "__main__":
    unittest.main()
