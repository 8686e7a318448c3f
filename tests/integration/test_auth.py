"""Caller authentication and authorization against the running relais:
Publik signatures (from tests/support/publik.py and from `relais sign`),
API keys, Basic, allow-lists and grants, with the test-echo plugin."""
import base64
import datetime
import os
import secrets
import subprocess
import unittest
import urllib.parse

import publik
from relais_harness import (RELAIS_BIN, TEST_PLUGIN_DIR, Workspace, enter, start_relais,
                            written_bytes)

ORIG = "wcs.test"
WCS_KEY = "wcs-key-3b9e1c7d5a"
API_KEY = "api-key-8f2d6a4c1e"
FAR_KEY = "far-key-6c1a9e3b7d"
BASIC_PASSWORD = "basic-password-2e7f5d"

CONFIG = """\
server:
  listen: "127.0.0.1:0"
paths:
  connectors: connectors
  plugins: {plugins}
  data: var
clients:
  wcs:
    publik: {{orig: {orig}, key: "${{env:RELAIS_TEST_WCS_KEY}}"}}
    families: [reference]
    grants: {{echo: [echo]}}
  demo:
    apikey: "${{env:RELAIS_TEST_API_KEY}}"
    families: [reference]
    grants: {{echo: "*"}}
  gec:
    basic: {{username: gec, password: "${{env:RELAIS_TEST_BASIC_PASSWORD}}"}}
    families: [reference]
    grants: {{echo: "*"}}
  faraway:
    apikey: "${{env:RELAIS_TEST_FAR_KEY}}"
    allow_from: [10.0.0.0/8]
    families: [reference]
    grants: {{echo: "*"}}
"""

ECHO = """\
slug: echo
kind: test-echo
family: reference
endpoints:
  echo: {}
  sleep: {}
"""

OTHER = """\
slug: other
kind: test-echo
family: reference
endpoints:
  echo: {}
"""

ECHO_PATH = "/test-echo/echo/echo"


class TestAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws = enter(cls.addClassCleanup, Workspace())
        cls.ws.write_config(CONFIG.format(plugins=TEST_PLUGIN_DIR, orig=ORIG))
        cls.ws.write_connector("echo.yaml", ECHO)
        cls.ws.write_connector("other.yaml", OTHER)
        cls.relais = start_relais(cls.addClassCleanup, cls.ws, env={
            "RELAIS_TEST_WCS_KEY": WCS_KEY,
            "RELAIS_TEST_API_KEY": API_KEY,
            "RELAIS_TEST_FAR_KEY": FAR_KEY,
            "RELAIS_TEST_BASIC_PASSWORD": BASIC_PASSWORD,
        })

    def signed(self, path, query="", key=WCS_KEY, **options):
        """`path?query` signed by publik.py as the wcs client."""
        extra = urllib.parse.urlencode([("orig", ORIG)])
        full = f"{query}&{extra}" if query else extra
        return path + "?" + publik.sign_query(full, key, **options)

    def assert_ok(self, response):
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["err"], 0, response)

    def assert_error(self, response, status, err_class):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(body["err"], 1, response)
        self.assertEqual(body["err_class"], err_class, response)

    def test_url_signed_by_publik_py_is_accepted(self):
        for algo in publik.ALGORITHMS:
            with self.subTest(algo=algo):
                self.assert_ok(self.relais.get(self.signed(ECHO_PATH, "q=rue+de+la+Paix",
                                                           algo=algo)))

    def test_relais_sign_output_is_accepted_by_publik_and_relais(self):
        url = f"http://127.0.0.1:{self.relais.port}{ECHO_PATH}?q=caf%C3%A9"
        r = subprocess.run(
            [RELAIS_BIN, "sign", "--orig", ORIG, "--key-env", "RELAIS_TEST_WCS_KEY", url],
            capture_output=True, text=True, timeout=30,
            env={**os.environ, "RELAIS_TEST_WCS_KEY": WCS_KEY})
        self.assertEqual(r.returncode, 0, r.stderr)
        signed_url = r.stdout.strip()
        self.assertEqual(publik.verify_url(signed_url, {ORIG: WCS_KEY}), ORIG)
        parts = urllib.parse.urlsplit(signed_url)
        self.assert_ok(self.relais.get(f"{parts.path}?{parts.query}"))

    def test_credentials_never_reach_the_connector(self):
        r = self.relais.get(self.signed(ECHO_PATH, "q=1"))
        self.assert_ok(r)
        for name in ("orig", "algo", "timestamp", "nonce", "signature"):
            self.assertNotIn(f'"{name}"', r.body.decode(), r)
        r = self.relais.get(ECHO_PATH + "?q=1&apikey=" + API_KEY)
        self.assert_ok(r)
        self.assertNotIn(API_KEY, r.body.decode())

    def test_replayed_nonce(self):
        path = self.signed(ECHO_PATH, "q=1")
        self.assert_ok(self.relais.get(path))
        self.assert_error(self.relais.get(path), 403, "replayed-nonce")

    def test_forged_request_does_not_burn_the_nonce(self):
        nonce = secrets.token_hex(16)
        forged = self.signed(ECHO_PATH, key="not-the-key", nonce=nonce)
        self.assert_error(self.relais.get(forged), 403, "invalid-signature")
        self.assert_ok(self.relais.get(self.signed(ECHO_PATH, nonce=nonce)))

    def test_timestamp_31_s_old_is_expired(self):
        old = publik.utcnow() - datetime.timedelta(seconds=31)
        r = self.relais.get(self.signed(ECHO_PATH, timestamp=old))
        self.assert_error(r, 403, "expired-signature")

    def test_timestamp_in_the_future_is_expired(self):
        ahead = publik.utcnow() + datetime.timedelta(seconds=40)
        self.assert_error(self.relais.get(self.signed(ECHO_PATH, timestamp=ahead)), 403,
                          "expired-signature")

    def test_missing_credentials(self):
        self.assert_error(self.relais.get(ECHO_PATH + "?q=1"), 401, "missing-credentials")

    def test_wrong_key(self):
        self.assert_error(self.relais.get(self.signed(ECHO_PATH, key="not-the-key")), 403,
                          "invalid-signature")

    def test_unknown_orig(self):
        query = publik.sign_query("orig=stranger.test", WCS_KEY)
        self.assert_error(self.relais.get(f"{ECHO_PATH}?{query}"), 403, "invalid-credentials")

    def test_signature_not_last(self):
        self.assert_error(self.relais.get(self.signed(ECHO_PATH) + "&q=1"), 403,
                          "invalid-signature")

    def test_not_granted(self):
        # wcs is granted only the `echo` endpoint of `echo`, not `other` at all.
        self.assert_error(self.relais.get(self.signed("/test-echo/echo/sleep", "ms=1")), 403,
                          "not-granted")
        self.assert_error(self.relais.get(self.signed("/test-echo/other/echo")), 403,
                          "not-granted")

    def test_address_not_allowed(self):
        # faraway may only call from 10.0.0.0/8; the test calls from 127.0.0.1.
        self.assert_error(self.relais.get(ECHO_PATH + "?apikey=" + FAR_KEY), 403,
                          "address-not-allowed")

    def test_api_key_in_query_and_as_bearer(self):
        self.assert_ok(self.relais.get(ECHO_PATH + "?apikey=" + API_KEY))
        self.assert_ok(self.relais.get(ECHO_PATH,
                                       headers={"Authorization": "Bearer " + API_KEY}))
        self.assert_error(self.relais.get(ECHO_PATH + "?apikey=wrong"), 403,
                          "invalid-credentials")

    def test_basic(self):
        def basic(password):
            token = base64.b64encode(f"gec:{password}".encode()).decode()
            return {"Authorization": "Basic " + token}

        self.assert_ok(self.relais.get(ECHO_PATH, headers=basic(BASIC_PASSWORD)))
        self.assert_error(self.relais.get(ECHO_PATH, headers=basic("wrong")), 403,
                          "invalid-credentials")

    def test_secrets_never_written(self):
        nonce = secrets.token_hex(16)
        path = self.signed(ECHO_PATH, nonce=nonce)
        quoted_signature = path.rsplit("&signature=", 1)[1]
        signature = urllib.parse.unquote(quoted_signature)
        self.assert_ok(self.relais.get(path))
        self.relais.get(path)
        self.relais.get(self.signed(ECHO_PATH, key=WCS_KEY + "x"))
        self.relais.get(ECHO_PATH + "?apikey=" + API_KEY)
        self.relais.get(ECHO_PATH, headers={"Authorization": "Bearer " + API_KEY + "x"})
        last = "secrets-check-" + secrets.token_hex(8)
        self.relais.get(ECHO_PATH, headers={"X-Request-ID": last, "Authorization": "Basic " +
                                            base64.b64encode(f"gec:{BASIC_PASSWORD}".encode())
                                            .decode()})
        self.relais.wait_for_log(lambda line: line.get("request_id") == last)
        written = written_bytes(self.ws)
        for secret in (WCS_KEY, API_KEY, FAR_KEY, BASIC_PASSWORD, nonce, signature,
                       quoted_signature):
            self.assertNotIn(secret.encode(), written)


if __name__ == "__main__":
    unittest.main()
