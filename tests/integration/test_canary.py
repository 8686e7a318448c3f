"""The canary proof (issue 3): unique canary strings planted in every
personal field relais handles (async pushes delivered, refused, retried and
dead-lettered; synchronous calls and their failures; status reports, relayed,
dead-lettered and refused; the same pushes and calls through kinds xml and
soap, whose requests carry the values as XML) never appear in any byte relais wrote once the
deliveries are done and the dead letters erased: data directory (outbox
databases with their WAL and SHM files), log file, captured stdout/stderr.
Logging is at debug level, the most talkative.

The control shows the search works: a value of an endpoint declared
`personal_data: false` is logged at debug level and found by the same
search, and the tracking ids relais keeps are found in the databases."""
import base64
import json
import os
import signal
import stat
import unittest
import uuid

import fake_wcs
from async_relais import (FAST_DELIVERY, Caller, apikey_client, push_endpoint, quick_outbox,
                          relais_config, rest_connector)
from fake_wcs import FakeWcs
from push_upstream import Behaviour, PushUpstream
from relais_harness import Workspace, enter, poll_until, start_relais

URBA = "economie-urbanisme"
GRU_ORIG = "relais.canary"
GRU_KEY = "canary-gru-key"
WCS_CLIENT_KEY = "canary-wcs-client"
APP_KEY = "canary-business-app"
LOG_FILE = "logs/relais.log"


def xml_connector(kind, base_url):
    """A connector of kind xml or soap: `permit` and `reject` push the
    call's values in XML (delivered; refused by the upstream), `lookup`
    asks with them and gets an answer quoting them that is not XML."""
    body = ("<u:permis><u:nom>{body:/last_name}</u:nom><u:adresse>{body:/address}</u:adresse>"
            "<u:demandeur>{applicant}</u:demandeur></u:permis>")

    def request(path):
        return {"path": path, "body": body} if kind == "soap" else {
            "method": "POST", "path": path, "body": body}

    def push(path):
        return {"method": "POST", "async": True, "parameters": {"applicant": {}},
                "body_schema": {"type": "object"}, "request": request(path)}

    return json.dumps({
        "slug": f"urba-{kind}", "kind": kind, "family": URBA,
        "upstream": {"base_url": base_url, "timeout": "5s"},
        "namespaces": {"u": "urn:example:urbanisme"}, "delivery": FAST_DELIVERY,
        "endpoints": {"permit": push("permits"), "reject": push("reject"),
                      "lookup": {"method": "POST", "parameters": {"applicant": {}},
                                 "request": request("lookup")}}})


class CanaryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs = enter(cls.addClassCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        cls.wcs.script("archive", [], default=fake_wcs.UNAVAILABLE)
        cls.app = enter(cls.addClassCleanup, PushUpstream())
        cls.app.default = Behaviour(echo_body=True)
        cls.app.rules = {
            "/urba/reject": Behaviour(status=400, echo_body=True),
            "/urba/flaky": Behaviour(fail_first=1, fail_status=500, echo_body=True),
            "/urba/fail": Behaviour(status=500, echo_body=True),
            "/urba/xml/reject": Behaviour(status=400, echo_body=True),
            "/urba/soap/reject": Behaviour(status=400, echo_body=True),
        }
        cls.ws = enter(cls.addClassCleanup, Workspace())
        os.makedirs(os.path.join(cls.ws.root, "logs"))
        parameters = {"form_url": {}, "applicant": {}, "demand_id": {"pattern": "^[0-9]+$"}}
        schema = {"type": "object", "required": ["last_name"],
                  "properties": {"last_name": {"type": "string", "minLength": 1}}}
        query = {"applicant": "{applicant}"}
        lookup = {"method": "GET", "parameters": {"name": {"required": True}},
                  "request": {"path": "lookup", "query": {"name": "{name}"}}}
        cls.ws.write_connector("urbanisme.yaml", rest_connector(
            "urbanisme", URBA, cls.app.url + "/urba/", {
                "permit": push_endpoint("permits", parameters, schema, query=query),
                "reject": push_endpoint("reject", parameters, schema, query=query),
                "flaky": push_endpoint("flaky", parameters, schema, query=query),
                "lookup": lookup,
                "lookup-fail": dict(lookup, request={"path": "fail", "query": {"name": "{name}"}}),
            }, delivery=FAST_DELIVERY, callbacks={
                "reference": "/id", "fields": ["comment"],
                "statuses": {"accepted": {"trigger": "accepte", "terminal": True},
                             "archived": {"trigger": "archive"}}}))
        for kind, path in (("xml", "/xml/"), ("soap", "/soap/")):
            cls.ws.write_connector(f"urba-{kind}.yaml", xml_connector(
                kind, cls.app.url + "/urba" + path))
        cls.ws.write_connector("reference.yaml", rest_connector(
            "reference", "reference", cls.app.url + "/ref/", {
                "public-lookup": {"personal_data": False, "parameters": {"q": {"required": True}},
                                  "request": {"path": "lookup", "query": {"q": "{q}"}}}}))
        cls.ws.write_config(relais_config(
            clients={
                "wcs": apikey_client(WCS_CLIENT_KEY, [URBA, "reference"], {
                    "urbanisme": ["permit", "reject", "flaky", "lookup", "lookup-fail",
                                  "deliveries"],
                    "reference": "*", "urba-xml": "*", "urba-soap": "*"}),
                "urba-app": apikey_client(APP_KEY, [URBA], {"urbanisme": "*"}),
            },
            outbox=quick_outbox(dead_letter_retention="1s", correlation_retention="1h"),
            gru={"url": cls.wcs.url + "/", "orig": GRU_ORIG, "key": GRU_KEY},
            log_level="debug", log_file=LOG_FILE))
        cls.relais = start_relais(cls.addClassCleanup, cls.ws,
                                  log_path=os.path.join(cls.ws.root, LOG_FILE))
        cls.gru = Caller(cls.relais, WCS_CLIENT_KEY)
        cls.business_app = Caller(cls.relais, APP_KEY)

    # -- helpers -----------------------------------------------------------------

    def setUp(self):
        self.canaries = []
        self.demands = 0

    def canary(self):
        value = f"CANARY-{uuid.uuid4().hex}"
        self.canaries.append(value)
        return value

    def leaks(self):
        """The canaries found anywhere relais wrote, with the files holding them."""
        found = {value: self.files_containing(value) for value in self.canaries}
        return {value: files for value, files in found.items() if files}

    def files_containing(self, needle, under=None):
        """Every file under the workspace (or `under`) holding `needle`, as raw bytes."""
        needle = needle.encode() if isinstance(needle, str) else needle
        found = []
        for folder, _, files in os.walk(under or self.ws.root):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    if needle in f.read():
                        found.append(os.path.relpath(path, self.ws.root))
        return found

    def assert_status(self, response, status, err_class=None):
        self.assertEqual(response.status, status, response)
        if err_class:
            self.assertEqual(response.json()["err_class"], err_class, response)

    def push(self, endpoint, status=202, err_class=None, body=None, **params):
        self.demands += 1
        params.setdefault("form_url", self.wcs.form_url("permis", self.demands))
        params.setdefault("applicant", self.canary())
        params.setdefault("demand_id", str(self.demands))
        params = {name: value for name, value in params.items() if value is not None}
        if body is None:
            body = {"last_name": self.canary(), "address": self.canary(),
                    "children": [{"first_name": self.canary()}]}
        r = self.gru.push("urbanisme", endpoint, body, params,
                          headers={"Idempotency-Key": self.canary()})
        self.assert_status(r, status, err_class)
        return r.json()["data"]["tracking_id"] if status == 202 else None

    def push_xml(self, kind, endpoint, status, err_class=None, body=None):
        """A call to `endpoint` of urba-`kind` with canaries in its values."""
        body = body or {"last_name": self.canary(), "address": self.canary()}
        r = self.gru.post(f"/{kind}/urba-{kind}/{endpoint}", body, {"applicant": self.canary()})
        self.assert_status(r, status, err_class)
        return r.json()["data"]["tracking_id"] if status == 202 else None

    def report(self, reference, status, expected=202, err_class=None, **extra):
        body = dict(reference=reference, status=status, **extra)

        def sent():
            r = self.business_app.post("/rest/urbanisme/status", body)
            return r if (r.status != 404 or expected == 404) else None

        r = poll_until(sent, 5, message="the correlation was never recorded")
        self.assert_status(r, expected, err_class)
        return r.json()["data"]["tracking_id"] if expected == 202 else None

    # -- the proof -------------------------------------------------------------------

    def test_no_personal_value_survives_anywhere(self):
        # Pushes delivered (the business application echoes them back), one
        # after an upstream 500 quoting the push.
        delivered = [self.push("permit") for _ in range(3)] + [self.push("flaky")]
        # Pushes refused, for each reason a push is refused.
        self.push("permit", 400, "invalid-body", body={"last_name": "", "note": self.canary()})
        self.push("permit", 400, "invalid-parameter", demand_id=self.canary())
        self.push("permit", 400, "invalid-json", body=f'{{"last_name": "{self.canary()}"')
        self.push("permit", 400, "invalid-parameter",
                  form_url="https://elsewhere.example/" + self.canary() + "/")
        self.push("permit", 400, "missing-parameter", form_url=None)
        # A push dead-lettered: the upstream refuses it with a 400 quoting it.
        dead = [self.push("reject")]
        # Synchronous calls, answered and failed (the failure body quotes the call).
        self.assert_status(self.gru.get("/rest/urbanisme/lookup", {"name": self.canary()}), 200)
        self.assert_status(self.gru.get("/rest/urbanisme/lookup-fail", {"name": self.canary()}),
                           502, "upstream-error")
        self.assert_status(self.gru.get("/rest/urbanisme/lookup", {"nom": self.canary()}),
                           400, "missing-parameter")

        # The same through kinds xml and soap: values written into XML.
        xml_dead = []
        for kind in ("xml", "soap"):
            delivered.append(self.push_xml(kind, "permit", 202))
            xml_dead.append(self.push_xml(kind, "reject", 202))
            self.push_xml(kind, "lookup", 502, "upstream-invalid-response")
            self.push_xml(kind, "permit", 400, "invalid-body",
                          body={"last_name": {"nested": self.canary()}})

        for tracking_id in delivered + dead + xml_dead:
            self.gru.wait_state(tracking_id, ("delivered", "dead"))
        references = [self.app.reference_of(tracking_id) for tracking_id in delivered[:4]]
        self.assertTrue(all(references), references)

        # Status reports: relayed, dead-lettered by w.c.s. (404), refused.
        triggers = [self.report(references[0], "accepted", message=self.canary(),
                                fields={"comment": self.canary()})]
        dead.append(self.report(references[1], "archived", message=self.canary(),
                                fields={"comment": self.canary()}))
        self.report(references[2], self.canary(), 400, "unknown-status", message=self.canary())
        self.report(references[2], "accepted", 400, "invalid-parameter",
                    fields={self.canary(): self.canary()})
        self.report(self.canary(), "accepted", 404, "unknown-reference", message=self.canary())
        self.report(references[2], "accepted", 400, "invalid-parameter", message=[self.canary()])
        for tracking_id in triggers:
            data = self.business_app.wait_state(tracking_id, ("delivered", "dead"))
            self.assertEqual(data["state"], "delivered", data)
        self.assertEqual(self.business_app.wait_state(dead[-1], ("delivered", "dead"))["state"],
                         "dead")
        self.assertEqual(self.gru.wait_state(dead[0], ("delivered", "dead"))["state"], "dead")
        self.assertEqual(self.wcs.refused, [])

        # The control: a value of an endpoint free of personal data.
        control = f"CONTROL-{uuid.uuid4().hex}"
        self.assert_status(self.gru.get("/rest/reference/public-lookup", {"q": control}), 200)
        self.relais.wait_for_log(lambda line: control in str(line.get("parameters", "")))

        # Dead letters lose their payload after dead_letter_retention.
        erased = [(tracking_id, self.gru) for tracking_id in [dead[0], *xml_dead]]
        for tracking_id, caller in erased + [(dead[1], self.business_app)]:
            poll_until(lambda: caller.delivery(tracking_id).json()["data"].get("payload_erase_at")
                       is None, 15, interval=0.1, message=f"{tracking_id} kept its payload")

        # While relais still runs, its WAL files hold the last commits: they
        # must be as clean as what a clean shutdown leaves.
        self.assertEqual(self.leaks(), {})
        self.assertEqual(self.relais.stop(signal.SIGTERM), 0)

        # Every canary was really sent where it should go (the fakes got them).
        sent = b"".join(r.body + r.raw_path.encode() for r in self.app.requests())
        sent += b"".join(t.body for t in self.wcs.triggers)
        for value in (references[0], self.canaries[0]):
            self.assertIn(value.encode(), sent)

        # Zero hits for any canary, anywhere relais wrote.
        self.assertEqual(self.leaks(), {})
        self.assertGreaterEqual(len(self.canaries), 40)
        # The outbox key is in its own file only: never in a log or an output.
        key_path = os.path.join(self.ws.data, "outbox.key")
        with open(key_path, encoding="ascii") as f:
            key_text = f.read().strip()
        self.assertEqual(self.files_containing(key_text),
                         [os.path.relpath(key_path, self.ws.root)])
        self.assertEqual(self.files_containing(base64.b64decode(key_text)), [])

        # The same search finds the control in the log...
        self.assertIn(LOG_FILE, self.files_containing(control))
        # ... and reads the databases: the tracking ids relais keeps are there.
        outbox_dir = os.path.join(self.ws.data, "outbox")
        databases = [name for name in os.listdir(outbox_dir) if ".sqlite" in name]
        self.assertIn(URBA + ".sqlite", databases)
        for tracking_id in delivered + dead + xml_dead + triggers:
            in_databases = (self.files_containing(tracking_id, outbox_dir)
                            or self.files_containing(bytes.fromhex(tracking_id), outbox_dir))
            self.assertTrue(in_databases, f"{tracking_id} not found in {databases}")

    def test_what_relais_creates_is_for_its_user_only(self):
        # A push, so that the outbox database exists.
        self.push("permit")
        created = [os.path.join(self.ws.root, LOG_FILE), self.ws.data]
        for folder, subfolders, files in os.walk(self.ws.data):
            created += [os.path.join(folder, name) for name in subfolders + files]
        modes = {os.path.relpath(path, self.ws.root): stat.S_IMODE(os.stat(path).st_mode)
                 for path in created}
        self.assertIn(os.path.join("var", "outbox", URBA + ".sqlite"), modes)
        expected = {path: 0o700 if os.path.isdir(os.path.join(self.ws.root, path)) else 0o600
                    for path in modes}
        self.assertEqual({path: oct(mode) for path, mode in modes.items()},
                         {path: oct(mode) for path, mode in expected.items()})


if __name__ == "__main__":
    unittest.main()
