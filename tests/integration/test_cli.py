"""The command line as a user meets it: `--help` on every command, and the
daemon called with the real `curl` command, as an integrator would try it
(a URL signed by `relais sign`, an API key, a JSON body)."""
import json
import subprocess
import unittest

from fake_upstream import FakeUpstream
from relais_harness import PLUGIN_DIR, RELAIS_BIN, Workspace, enter, start_relais

ORIG = "wcs.example.org"
KEY = "cli-test-signing-key"
API_KEY = "cli-test-api-key"

GEOCODE = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3488, 48.8534]},
     "properties": {"id": "75104_1", "label": "8 Boulevard du Palais 75004 Paris"}}]}


def relais(*args):
    return subprocess.run([RELAIS_BIN, *args], capture_output=True, text=True, timeout=30)


class Help(unittest.TestCase):
    def test_every_command_has_help(self):
        for command in ("serve", "validate", "sign", "schema", "import-wsdl", "version"):
            with self.subTest(command=command):
                result = relais(command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("usage: relais " + command, result.stdout)

    def test_top_level_help_lists_the_commands(self):
        result = relais("--help")
        self.assertEqual(result.returncode, 0)
        for command in ("serve", "validate", "sign", "schema", "import-wsdl", "version"):
            self.assertIn(command, result.stdout)

    def test_unknown_command_is_a_usage_error(self):
        result = relais("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", result.stderr)

    def test_version(self):
        result = relais("version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^relais \d+\.\d+\.\d+\n$")


class Curl(unittest.TestCase):
    """relais called by the curl command line tool."""

    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeUpstream())
        cls.fake.routes["/json/geo"] = (200, {}, GEOCODE)
        cls.ws = enter(cls.addClassCleanup, Workspace())
        cls.ws.write_connector("geo.yaml", json.dumps({
            "slug": "geo", "kind": "rest", "family": "reference",
            "upstream": {"base_url": cls.fake.url + "/", "timeout": "5s"},
            "endpoints": {
                "search": {
                    "parameters": {"q": {"required": True}},
                    "request": {"path": "json/geo", "query": {"q": "{q}"}},
                    "response": {"data": "/features", "list": True,
                                 "fields": {"id": "/properties/id",
                                            "text": "/properties/label"}}},
                "submit": {
                    "method": "POST",
                    "body_schema": {"type": "object", "required": ["name"]},
                    "request": {"method": "POST", "path": "echo/submit",
                                "body": {"nom": "{body:/name}"}}}}}))
        cls.ws.write_config(
            "server: {listen: \"127.0.0.1:0\", threads: 1}\n"
            f"paths: {{connectors: connectors, plugins: \"{PLUGIN_DIR}\", data: var}}\n"
            "clients:\n"
            f"  wcs: {{publik: {{orig: {ORIG}, key: {KEY}}}, families: [reference],"
            " grants: {geo: \"*\"}}\n"
            f"  trial: {{apikey: {API_KEY}, families: [reference], grants: {{geo: [search]}}}}\n")
        cls.relais = start_relais(cls.addClassCleanup, cls.ws)
        cls.base = f"http://127.0.0.1:{cls.relais.port}"

    def curl(self, *args):
        """Runs curl; returns (HTTP status, parsed JSON body)."""
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}", *args],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        body, _, status = result.stdout.rpartition("\n")
        return int(status), json.loads(body)

    def test_signed_url_from_relais_sign(self):
        signed = relais("sign", "--orig", ORIG, "--key", KEY,
                        f"{self.base}/rest/geo/search?q=palais&orig={ORIG}")
        self.assertEqual(signed.returncode, 0, signed.stderr)
        status, body = self.curl(signed.stdout.strip())
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"err": 0, "data": [
            {"id": "75104_1", "text": "8 Boulevard du Palais 75004 Paris"}]})
        # The same URL a second time reuses its nonce.
        status, body = self.curl(signed.stdout.strip())
        self.assertEqual((status, body["err_class"]), (403, "replayed-nonce"))

    def test_api_key_in_a_bearer_header(self):
        status, body = self.curl("-H", f"Authorization: Bearer {API_KEY}",
                                 f"{self.base}/rest/geo/search/?q=palais")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["data"][0]["id"], "75104_1")

    def test_json_body_and_its_refusals(self):
        signed = relais("sign", "--orig", ORIG, "--key", KEY,
                        f"{self.base}/rest/geo/submit?orig={ORIG}")
        status, body = self.curl("-X", "POST", "-H", "Content-Type: application/json",
                                 "--data", '{"name": "Dupont"}', signed.stdout.strip())
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(self.fake.requests_to("/echo/submit")[-1].body), {"nom": "Dupont"})
        for data, err_class in (('{"name": ', "invalid-json"), ('{"other": 1}', "invalid-body")):
            with self.subTest(err_class=err_class):
                signed = relais("sign", "--orig", ORIG, "--key", KEY,
                                f"{self.base}/rest/geo/submit?orig={ORIG}")
                status, body = self.curl("-X", "POST", "--data", data, signed.stdout.strip())
                self.assertEqual((status, body["err_class"]), (400, err_class))

    def test_refusals_without_credentials_or_grant(self):
        status, body = self.curl(f"{self.base}/rest/geo/search?q=x")
        self.assertEqual((status, body["err_class"]), (401, "missing-credentials"))
        status, body = self.curl("-X", "POST", "--data", "{}",
                                 f"{self.base}/rest/geo/submit?apikey={API_KEY}")
        self.assertEqual((status, body["err_class"]), (403, "not-granted"))


if __name__ == "__main__":
    unittest.main()
