"""The canary proof for the SOAP service (test_canary.py's, for SOAP):
unique canary strings planted in every value a SOAP caller sends — business
references, statuses, messages, field names and values, Idempotency-Key,
WS-Security user names and passwords, Basic passwords, the Host of ?wsdl,
malformed and hostile envelopes — over SOAP 1.1 and 1.2, accepted and
refused, never appear in any byte relais wrote once the demands and
statuses are delivered: data directory (outbox databases with their WAL),
log file at debug level, captured stdout/stderr."""
import os
import signal
import unittest
import uuid

from relais_harness import poll_until, run_relais
from soap_calls import (PING, SOAP11, SOAP12, SoapCaller, create_demand, envelope,
                        report_status, username_token)
from soap_workspace import APP_PASSWORD, APP_USER, VOIRIE, basic, start_workspace

LOG_FILE = "logs/relais.log"


class SoapCanaryTest(unittest.TestCase):
    def setUp(self):
        self.wcs, self.ws, self.relais = start_workspace(self.addCleanup, log_file=LOG_FILE)
        self.app = SoapCaller(self.relais, VOIRIE, basic(APP_USER, APP_PASSWORD))
        self.anonymous = SoapCaller(self.relais, VOIRIE)
        self.canaries = []

    def canary(self):
        value = f"CANARY-{uuid.uuid4().hex}"
        self.canaries.append(value)
        return value

    def leaks(self):
        found = {}
        for folder, _, files in os.walk(self.ws.root):
            for name in files:
                with open(os.path.join(folder, name), "rb") as f:
                    content = f.read()
                for value in self.canaries:
                    if value.encode() in content:
                        found.setdefault(value, []).append(os.path.relpath(
                            os.path.join(folder, name), self.ws.root))
        return found

    def demand(self, version, caller, header=""):
        """Opens a demand whose reference and every field are canaries;
        returns its reference and tracking id."""
        reference = self.canary()
        fields = {"adresse": self.canary(), "description": self.canary(),
                  "telephone": self.canary()}
        answer = caller.call(create_demand(reference, fields), version, header)
        self.assertEqual(answer.status, 200, answer)
        return reference, answer.values["trackingId"]

    def report(self, reference, status, version, **extra):
        def sent():
            answer = self.app.call(report_status(reference, status, **extra), version)
            return answer if answer.error_class != "unknown-reference" else None
        answer = poll_until(sent, 10, message="the correlation was never recorded")
        self.assertEqual(answer.status, 200, answer)
        return answer.values["trackingId"]

    def refused(self, caller, body, version=SOAP11, header="", headers=None):
        answer = caller.call(body, version, header, headers)
        self.assertEqual(answer.operation, "Fault", answer)
        self.assertIn(answer.status // 100, (4,), answer)

    def test_no_soap_value_survives_anywhere(self):
        # Demands opened, then their statuses reported: terminal ones drop
        # the correlations, whose references are the only identifiers kept.
        first, first_id = self.demand(SOAP11, self.app)
        second, second_id = self.demand(
            SOAP12, self.anonymous, username_token(APP_USER, APP_PASSWORD, digest=True))
        third_id = self.app.call(create_demand(None, {"description": self.canary()}), SOAP12)\
            .values["trackingId"]
        triggers = [
            self.report(first, "received", SOAP11, message=self.canary(),
                        fields={"comment": self.canary()}),
            self.report(second, "received", SOAP12, message=self.canary()),
        ]
        keyed = self.app.call(report_status(second, "received"), SOAP12,
                              headers={"Idempotency-Key": self.canary()})
        self.assertEqual(keyed.status, 200, keyed)
        triggers.append(keyed.values["trackingId"])

        # Refusals, each planting canaries where it fails.
        for version in (SOAP11, SOAP12):
            self.refused(self.app, report_status(self.canary(), "done", self.canary()), version)
            self.refused(self.app, report_status(first, self.canary()), version)
            self.refused(self.app, report_status(first, "done", fields={self.canary(): "x",
                                                                        "comment": self.canary()}),
                         version)
            self.refused(self.app, create_demand(self.canary(), {self.canary(): self.canary()}),
                         version)
            self.refused(self.app, f"<r:{self.canary().replace('-', '_')}/>", version)
            self.refused(self.anonymous, PING, version,
                         username_token(self.canary(), self.canary(), digest=True))
            self.refused(self.anonymous, PING, version, username_token(APP_USER, self.canary()))
            self.refused(SoapCaller(self.relais, VOIRIE, basic(APP_USER, self.canary())), PING,
                         version)
            self.refused(SoapCaller(self.relais, VOIRIE, basic(self.canary(), self.canary())),
                         PING, version)
        malformed = [
            envelope(f"<r:ReportStatus><r:reference>{self.canary()}</r:reference>"),
            f'<!DOCTYPE x [<!ENTITY e "{self.canary()}">]>' + envelope(PING).split("\n", 1)[1],
            f"{self.canary()} is not XML",
            envelope(PING, header=f"<x:{self.canary().replace('-', '_')} xmlns:x='urn:x' "
                                  "s:mustUnderstand='1'/>"),
            envelope(f'<r:Ping a="{self.canary()}{"x" * 70000}"/>'),
        ]
        for body in malformed:
            r = self.app.post_raw(body)
            self.assertEqual(r.status, 400, r)
        wsdl = self.relais.get(VOIRIE + "?wsdl", headers=dict(basic(APP_USER, APP_PASSWORD),
                                                             Host=self.canary() + ".example"))
        self.assertEqual(wsdl.status, 200)

        triggers += [self.report(first, "done", SOAP12, message=self.canary()),
                     self.report(second, "done", SOAP11, fields={"comment": self.canary()})]

        # Everything delivered: demands' data and triggers' bodies deleted.
        expected = {first_id, second_id, third_id, *triggers}

        def settled():
            r = run_relais("outbox", "list", "--config", self.ws.config, "--connector", "voirie")
            lines = r.stdout.splitlines()
            rows = [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]
            states = {row["tracking_id"]: row["state"] for row in rows}
            return all(states.get(t) == "delivered" for t in expected)
        poll_until(settled, 30, interval=0.1, message="the deliveries never settled")

        # Every canary went where it should (w.c.s. got them)...
        sent = b"".join(s.body for s in self.wcs.submissions) + b"".join(
            t.body for t in self.wcs.triggers)
        for value in (first, self.canaries[1], self.canaries[6]):
            self.assertIn(value.encode(), sent)
        self.assertEqual(self.wcs.refused, [])
        # ... and nowhere relais wrote, running (once the outbox's next
        # checkpoint has passed over the dropped correlations) and stopped.
        poll_until(lambda: not self.leaks(), 5, interval=0.1, message=lambda: str(self.leaks()))
        self.assertEqual(self.relais.stop(signal.SIGTERM), 0)
        self.assertEqual(self.leaks(), {})
        self.assertGreaterEqual(len(self.canaries), 40)
        # Control: the search finds what relais keeps, the tracking ids.
        log = os.path.join(self.ws.root, LOG_FILE)
        with open(log, "rb") as f:
            self.assertIn(first_id.encode(), f.read())


if __name__ == "__main__":
    unittest.main()
