"""relais's SOAP service called by SOAP clients written by others, each
built from relais's own ?wsdl: Debian's python3-zeep (run by /usr/bin/python3,
tests/support/soap_zeep_client.py) and the npm `soap` client
(tests/support/soap/npm_client.js), over SOAP 1.1 and 1.2, with HTTP Basic
and with a WS-Security UsernameToken digest. A fault's error class must be
readable from its detail. A missing client fails these tests: it is never a
reason to skip them."""
import json
import os
import subprocess
import unittest
import uuid

from async_relais import TRACKING_ID
from relais_harness import SOURCE_DIR, poll_until
from soap_workspace import APP_PASSWORD, APP_USER, VOIRIE, start_workspace

SUPPORT = os.path.join(SOURCE_DIR, "tests", "support")
ZEEP_PYTHON = "/usr/bin/python3"  # Debian's: the python3 on PATH may lack zeep
NODE = "node"


class SoapInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs, cls.ws, cls.relais = start_workspace(cls.addClassCleanup)
        cls.wsdl = f"http://127.0.0.1:{cls.relais.port}{VOIRIE}?wsdl"

    def tearDown(self):
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")

    def run_client(self, command, mode):
        prefix = f"INTEROP-{uuid.uuid4().hex[:10]}"
        done = subprocess.run(command + [self.wsdl, APP_USER, APP_PASSWORD, mode, prefix],
                              capture_output=True, text=True, timeout=90,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 0, done.stderr)
        return prefix, json.loads(done.stdout)

    def check(self, prefix, results):
        self.assertEqual(set(results), {"soap11", "soap12"})
        for version, calls in results.items():
            with self.subTest(version=version):
                self.assertRegex(calls["ping"], r"^\d+\.\d+\.\d+")
                self.assertRegex(calls["demand"], TRACKING_ID)
                self.assertRegex(calls["report"], TRACKING_ID)
                unknown = calls["unknown"]
                self.assertEqual(unknown["error_class"], "unknown-reference", unknown)
                self.assertEqual(unknown["message"], "no demand is known for this reference")
                self.assertIn("Client" if version == "soap11" else "Sender", unknown["code"])
                self.assertEqual(calls["undeclared"]["error_class"], "invalid-parameter")
                # w.c.s. got the demand, and the status for it.
                (submission,) = [s for s in self.wcs.submissions
                                 if s.headers["idempotency-key"] == calls["demand"]]
                self.assertEqual(submission.json()["data"]["adresse"].split()[0].isdigit(), True)
                form_url = submission.answer["data"]["url"]
                (trigger,) = poll_until(lambda: self.wcs.triggers_on(form_url), 20)
                self.assertEqual(trigger.json()["reference"], f"{prefix}-{version}")
                self.assertEqual(trigger.json()["status"], "received")

    def zeep(self, mode):
        return self.run_client([ZEEP_PYTHON, os.path.join(SUPPORT, "soap_zeep_client.py")], mode)

    def npm(self, mode):
        return self.run_client([NODE, os.path.join(SUPPORT, "soap", "npm_client.js")], mode)

    def test_zeep_with_basic(self):
        self.check(*self.zeep("basic"))

    def test_zeep_with_a_username_token_digest(self):
        self.check(*self.zeep("digest"))

    def test_npm_soap_with_basic(self):
        self.check(*self.npm("basic"))

    def test_npm_soap_with_a_username_token_digest(self):
        self.check(*self.npm("digest"))


if __name__ == "__main__":
    unittest.main()
