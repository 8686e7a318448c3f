"""The `mail` connector kind (a GEC, mail-management system) through the real
relais binary: the GEC posts a registered mail with its scanned PDF, relais
opens the w.c.s. demand through the outbox (a fake w.c.s. checks the Publik
signature), the GRU core closes it and a fake GEC receives the notification
(checking relais's Basic credentials). Replays, the GRU and the GEC down or
refusing, sizes (413), every refusal of a bad input, a reload, and canaries
planted in the PDF, the metadata, the file name and the closing message that
must never be written in clear (nor in base64) anywhere relais writes."""
import base64
import json
import os
import re
import secrets
import select
import signal
import socket
import sqlite3
import threading
import time
import unittest
import urllib.parse
import uuid

import publik
from async_relais import (FAST_DELIVERY, TRACKING_ID, DeliveryTestMixin, pick, quick_outbox,
                          relais_config)
from fake_gec import Answer, FakeGec
from fake_wcs import MAINTENANCE, FakeWcs
from relais_harness import (Workspace, enter, memory_bounds_apply, peak_memory_kib, poll_until,
                            start_relais, written_bytes)

FAMILY = "etat-civil-citoyennete"
# relais -> w.c.s. (demands), signed with gru.orig / gru.key
GRU_ORIG = "relais.mail"
GRU_KEY = "mail-gru-shared-key-41c7"
# w.c.s. -> relais (closing calls), a Publik client of relais
WCS_ORIG = "wcs.mail.test"
WCS_KEY = "mail-wcs-client-key-9e02"
# the GEC -> relais (posting mails), a Basic client of relais
GEC_USER = "gec"
GEC_PASSWORD = "gec-client-password-5d1a"
# relais -> the GEC's API (notifications), upstream Basic credentials
GEC_API_USER = "relais"
GEC_API_PASSWORD = "gec-api-password-8c3f"
LOG_FILE = "logs/relais.log"

ENDPOINTS = {"mails": {}, "closed": {}}
DOCUMENT_FIELD = "courrier"
REFERENCE_FIELD = "reference_gec"
DEFAULT_MAX_DOCUMENT = 20 * 1024 * 1024
SMALL_MAX_DOCUMENT = 1024

# slug -> the form it opens
FORMS = {
    "courrier": "courrier-entrant",      # the round trip, the GEC's answers
    "courrier-lent": "courrier-lent",    # w.c.s. answering 503 for a while
    "courrier-attente": "courrier-attente",  # w.c.s. answering 503 for ever
    "courrier-gros": "courrier-gros",    # default max_document_bytes, for the 25 MB PDF
    "courrier-petit": "courrier-petit",  # max_document_bytes 1024, every default
    "courrier-intrus": "courrier-intrus",  # wrong credentials for the GEC's API
}


def endpoint_limit(max_document_bytes):
    """EndpointInfo::max_body_bytes of `mails`: the base64 plus 256 KiB."""
    return 4 * -(-max_document_bytes // 3) + 262144


def mail_connector(slug, gec, **changes):
    doc = {
        "slug": slug, "kind": "mail", "family": FAMILY,
        "description": "Courrier entrant de la GEC",
        "delivery": FAST_DELIVERY,
        "upstream": {"base_url": gec.url + "/api/", "timeout": "1s", "connect_timeout": "1s",
                     "auth": {"basic": {"username": GEC_API_USER,
                                        "password": "${env:GEC_PASSWORD}"}},
                     "headers": {"X-Gec-Tenant": "mairie-test"}},
        "inbound": {"reference": "/id", "document": "/document", "filename": "/filename",
                    "metadata": {"subject": "/subject", "sender": "/sender/name",
                                 "received": "/arrival_date", "pages": "/pages",
                                 "urgent": "/urgent"}},
        "demand": {"formdef": FORMS[slug], "channel": "mail", "document_field": DOCUMENT_FIELD,
                   "reference_field": REFERENCE_FIELD,
                   "fields": {"objet": "subject", "expediteur": "sender",
                              "date_arrivee": "received", "nombre_pages": "pages",
                              "urgent": "urgent"}},
        "notify": {"method": "PUT", "path": "mails/{reference}/reply",
                   "headers": {"X-Source": "relais"},
                   "body": {"status": "reply-ready", "demand": "{body:/demand_url}",
                            "message": "{body:/message}"}},
        "endpoints": ENDPOINTS,
    }
    doc.update(changes)
    return json.dumps(doc, indent=1)


def write_workspace(ws, wcs, gec, gru=True):
    for slug in ("courrier", "courrier-lent", "courrier-attente", "courrier-gros"):
        ws.write_connector(f"{slug}.yaml", mail_connector(slug, gec))
    # Only what is required: default file name, channel, method, no body.
    ws.write_connector("courrier-petit.yaml", mail_connector(
        "courrier-petit", gec,
        inbound={"max_document_bytes": SMALL_MAX_DOCUMENT, "reference": "/id",
                 "document": "/document"},
        demand={"formdef": FORMS["courrier-petit"], "document_field": DOCUMENT_FIELD,
                "reference_field": REFERENCE_FIELD},
        notify={"path": "small/{reference}"}))
    intruder = json.loads(mail_connector("courrier-intrus", gec,
                                         notify={"path": "intrus/{reference}"}))
    intruder["upstream"]["auth"]["basic"]["password"] = "${env:GEC_WRONG_PASSWORD}"
    ws.write_connector("courrier-intrus.yaml", json.dumps(intruder, indent=1))
    os.makedirs(os.path.join(ws.root, "logs"), exist_ok=True)
    ws.write_config(relais_config(
        clients={
            "gec": {"basic": {"username": GEC_USER, "password": GEC_PASSWORD},
                    "families": [FAMILY],
                    "grants": {slug: ["mails", "deliveries"] for slug in FORMS}},
            "wcs": {"publik": {"orig": WCS_ORIG, "key": WCS_KEY},
                    "families": [FAMILY],
                    "grants": {slug: ["closed", "deliveries"] for slug in FORMS}},
        },
        outbox=quick_outbox(),
        gru={"url": wcs.url + "/", "orig": GRU_ORIG, "key": GRU_KEY} if gru else None,
        log_level="debug", log_file=LOG_FILE,
        # A mail whose body stalls is answered 408 within the test's patience.
        limits={"read_timeout": "2s"}))


def make_pdf(text="Madame, Monsieur, je sollicite un acte de naissance.", size=None):
    """A minimal valid PDF 1.4: one A4 page showing `text` (ASCII, in an
    uncompressed content stream), with a correct cross-reference table.
    With `size`, a comment after the header pads it to exactly that many
    bytes."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii")

    def build(padding):
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        if padding:
            out += b"%" + b"0" * (padding - 2) + b"\n"
        stream = b"BT /F1 12 Tf 72 770 Td (" + escaped + b") Tj ET"
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        offsets = []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1, xref)
        return bytes(out)

    pdf = build(0)
    if size is None:
        return pdf
    padding = 0
    for _ in range(4):
        if len(pdf) == size:
            return pdf
        padding += size - len(pdf)
        if padding < 3:
            raise ValueError(f"a PDF cannot be as small as {size} bytes")
        pdf = build(padding)
    raise ValueError(f"cannot pad a PDF to {size} bytes")


def b64(data):
    return base64.b64encode(data).decode("ascii")


def base64_forms(value):
    """`value` as it appears inside any base64 text holding it, whatever its
    alignment there: the characters that depend on its bytes alone."""
    forms = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value)
        complete = (len(value) + shift) // 3 * 4
        forms.add(encoded[4 if shift else 0:complete])
    return forms


def mail_body(reference, pdf=None, **changes):
    """What the GEC posts; a change to None leaves the member out."""
    body = {"id": reference, "document": b64(pdf if pdf is not None else make_pdf()),
            "filename": "lettre.pdf", "subject": "Demande d'acte de naissance",
            "sender": {"name": "Jeanne Martin"}, "arrival_date": "2026-11-20"}
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def new_reference():
    return f"GEC-2026-{uuid.uuid4().hex[:12]}"


class RawReply:
    """An answer read off a raw socket; `early`: it came before any byte of
    the body was sent; `sent`: body bytes sent."""

    def __init__(self, data, early, sent):
        self.early = early
        self.sent = sent
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"RawReply({self.status}, early={self.early}, sent={self.sent}, "
                f"{self.body[:300]!r})")


def _complete(data):
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", data[:head_end])
    return match is not None and len(data) - head_end - 4 >= int(match.group(1))


def start_mail_relais(add_cleanup, ws):
    return start_relais(add_cleanup, ws, log_path=os.path.join(ws.root, LOG_FILE),
                        env={"GEC_PASSWORD": GEC_API_PASSWORD,
                             "GEC_WRONG_PASSWORD": "not-the-password"})


class MailCase(DeliveryTestMixin, unittest.TestCase):
    """What the test classes share; each sets `wcs`, `gec`, `ws` and `relais`
    (for the class, or in its single test)."""

    wcs = gec = ws = relais = None

    def setUp(self):
        self.refusals_before = len(self.gec.refusals()) if self.gec else 0

    def tearDown(self):
        if self.wcs is None:
            return
        self.assertEqual(self.wcs.refused, [], "w.c.s. refused a signature")
        # Only the connector with wrong credentials may be refused by the GEC.
        refused = [r for r in self.gec.refusals()[self.refusals_before:]
                   if not r.path.startswith("/api/intrus/")]
        self.assertEqual(refused, [], "the GEC refused relais's credentials")

    # -- the GEC's calls -------------------------------------------------------------

    @staticmethod
    def gec_auth(password=GEC_PASSWORD):
        token = base64.b64encode(f"{GEC_USER}:{password}".encode()).decode()
        return {"Authorization": "Basic " + token}

    def post_mail(self, body, slug="courrier", headers=None, auth=None):
        """POST /mail/{slug}/mails as the GEC; `body` bytes, str or JSON."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        all_headers = dict(self.gec_auth() if auth is None else auth)
        all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        return self.relais.post(f"/mail/{slug}/mails", body=body, headers=all_headers)

    def accepted(self, response):
        """The tracking id of a 202 answer of exactly the contract's shape."""
        self.assertEqual(response.status, 202, response)
        body = response.json()
        self.assertEqual(set(body), {"err", "data"}, body)
        self.assertEqual(body["err"], 0, body)
        self.assertEqual(set(body["data"]), {"tracking_id"}, body)
        self.assertRegex(body["data"]["tracking_id"], TRACKING_ID)
        return body["data"]["tracking_id"]

    def start_own_relais(self, gru=True, hold_slug=None):
        """A relais of the test's own, with its own w.c.s. and GEC; w.c.s.
        answers 503 to the form of `hold_slug` until scripted otherwise."""
        self.wcs = enter(self.addCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        self.gec = enter(self.addCleanup, FakeGec(GEC_API_USER, GEC_API_PASSWORD))
        self.ws = enter(self.addCleanup, Workspace())
        write_workspace(self.ws, self.wcs, self.gec, gru=gru)
        if hold_slug is not None:
            self.wcs.script_submit(FORMS[hold_slug], [], default=MAINTENANCE)
        self.relais = start_mail_relais(self.addCleanup, self.ws)

    def mail_accepted(self, body, slug="courrier", headers=None):
        return self.accepted(self.post_mail(body, slug, headers))

    def delivery(self, tracking_id, slug="courrier"):
        return self.relais.get(f"/mail/{slug}/deliveries/{tracking_id}", headers=self.gec_auth())

    def wait_state(self, tracking_id, states, slug="courrier", timeout=20):
        if isinstance(states, str):
            states = (states,)
        last = {}

        def reached():
            r = self.delivery(tracking_id, slug)
            last["r"] = r
            if r.status != 200:
                return None
            data = r.json()["data"]
            return data if data["state"] in states else None

        return poll_until(reached, timeout, interval=0.05,
                          message=lambda: f"{tracking_id} not {states}: {last.get('r')}")

    # -- the GRU's calls -------------------------------------------------------------

    @staticmethod
    def signed(path, query=""):
        """`path?query` Publik-signed as the w.c.s. client of relais."""
        extra = urllib.parse.urlencode([("orig", WCS_ORIG)])
        full = f"{query}&{extra}" if query else extra
        return path + "?" + publik.sign_query(full, WCS_KEY)

    def close(self, reference=None, slug="courrier", body=None, request_id=None, method="POST",
              headers=None, **extra):
        """The GRU's closing call; `body` replaces the JSON built from the rest."""
        if body is None:
            body = dict(extra, reference=reference)
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        headers = dict(headers or {}, **{"Content-Type": "application/json"})
        if request_id:
            headers["X-Request-ID"] = request_id
        return self.relais.request(method, self.signed(f"/mail/{slug}/closed"), body=body,
                                   headers=headers)

    def close_accepted(self, reference, slug="courrier", **kw):
        """A closing call once the demand is delivered: the correlation is
        recorded as relais reads w.c.s.'s answer, so a call racing it may see
        404 for a moment (as a status report would)."""
        r = poll_until(lambda: (lambda r: r if r.status != 404 else None)(
            self.close(reference, slug, **kw)), 5,
            message="the correlation was never recorded")
        return self.accepted(r)

    # -- what the fakes received -----------------------------------------------------

    def submissions(self, reference, slug="courrier", status=None):
        return [s for s in self.wcs.submissions_to(FORMS[slug], status)
                if s.json()["data"].get(REFERENCE_FIELD) == reference]

    def wait_submissions(self, reference, slug="courrier", count=1, status=None, timeout=20):
        return poll_until(
            lambda: (lambda s: s if len(s) >= count else None)(
                self.submissions(reference, slug, status)),
            timeout, message=lambda: f"w.c.s. got {self.wcs.submissions_to(FORMS[slug])}")

    def wait_notifications(self, path, count=1, timeout=20):
        return poll_until(
            lambda: (lambda n: n if len(n) >= count else None)(self.gec.notifications_to(path)),
            timeout, message=lambda: f"the GEC got {self.gec.all_notifications()}")

    def delivered_demand(self, reference, slug="courrier", body=None):
        """Posts a mail and waits until w.c.s. created its demand; returns
        (mail tracking id, demand URL)."""
        tracking_id = self.mail_accepted(body or mail_body(reference), slug)
        data = self.wait_state(tracking_id, "delivered", slug)
        self.assertEqual(pick(data, "kind", "connector", "endpoint", "last_status"),
                         ("demand", slug, FORMS[slug], 200), data)
        (submission,) = self.submissions(reference, slug, status=200)
        return tracking_id, submission.answer["data"]["url"]

    def outbox_ids(self, slug):
        r = self.outbox_cli("list", "--connector", slug, "--limit", "100000")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        header = lines[0].split("\t")
        return {row["tracking_id"]: row for row in
                (dict(zip(header, line.split("\t"))) for line in lines[1:] if line)}


class MailTest(MailCase):
    @classmethod
    def setUpClass(cls):
        cls.wcs = enter(cls.addClassCleanup, FakeWcs(GRU_ORIG, GRU_KEY))
        cls.gec = enter(cls.addClassCleanup, FakeGec(GEC_API_USER, GEC_API_PASSWORD))
        cls.ws = enter(cls.addClassCleanup, Workspace())
        write_workspace(cls.ws, cls.wcs, cls.gec)
        cls.relais = start_mail_relais(cls.addClassCleanup, cls.ws)

    # -- 1. the round trip -----------------------------------------------------------

    def test_round_trip(self):
        reference = new_reference()
        pdf = make_pdf()
        mail_rid = "mail-rid-" + secrets.token_hex(6)
        tracking_id = self.mail_accepted(mail_body(reference, pdf),
                                         headers={"X-Request-ID": mail_rid})

        (submission,) = self.wait_submissions(reference)
        self.assertEqual((submission.status, submission.orig), (200, GRU_ORIG))
        sent = submission.json()
        self.assertEqual(sent["context"], {"channel": "mail"})
        document = sent["data"][DOCUMENT_FIELD]
        self.assertEqual(set(document), {"filename", "content_type", "b64_content"}, document)
        self.assertEqual((document["filename"], document["content_type"]),
                         ("lettre.pdf", "application/pdf"))
        self.assertEqual(base64.b64decode(document["b64_content"], validate=True), pdf)
        self.assertEqual(sent, {"data": {
            DOCUMENT_FIELD: document, REFERENCE_FIELD: reference,
            "objet": "Demande d'acte de naissance", "expediteur": "Jeanne Martin",
            "date_arrivee": "2026-11-20"}, "context": {"channel": "mail"}})
        self.assertEqual(submission.headers["content-type"], "application/json")
        self.assertEqual(submission.headers["idempotency-key"], tracking_id)
        self.assertEqual(submission.headers.get("x-request-id"), mail_rid)

        data = self.wait_state(tracking_id, "delivered")
        self.assertEqual(pick(data, "tracking_id", "kind", "connector", "endpoint", "attempts",
                              "last_status"),
                         (tracking_id, "demand", "courrier", "courrier-entrant", 1, 200), data)
        demand_url = submission.answer["data"]["url"]

        close_rid = "close-rid-" + secrets.token_hex(6)
        message = "Réponse envoyée le 2 décembre"
        closing = self.close_accepted(reference, demand_url=demand_url, message=message,
                                      request_id=close_rid)
        self.assertNotEqual(closing, tracking_id)
        path = f"/api/mails/{reference}/reply"
        (note,) = self.wait_notifications(path)
        self.assertEqual((note.method, note.raw_path, note.status), ("PUT", path, 200))
        self.assertEqual(note.json(), {"status": "reply-ready", "demand": demand_url,
                                       "message": message})
        self.assertEqual(note.headers["authorization"], "Basic " + base64.b64encode(
            f"{GEC_API_USER}:{GEC_API_PASSWORD}".encode()).decode())
        self.assertEqual(note.headers["content-type"], "application/json")
        self.assertEqual(note.headers["x-source"], "relais")
        self.assertEqual(note.headers["x-gec-tenant"], "mairie-test")
        self.assertEqual(note.idempotency_key, closing)
        self.assertEqual(note.request_id, close_rid)
        data = self.wait_state(closing, "delivered")
        self.assertEqual(pick(data, "kind", "connector", "endpoint", "attempts", "last_status"),
                         ("push", "courrier", "closed", 1, 200), data)

        # Closed again (its 202 was lost): the first tracking id, nothing sent.
        self.assertEqual(self.accepted(self.close(reference, demand_url=demand_url,
                                                  message=message)), closing)
        time.sleep(0.3)
        self.assertEqual(len(self.gec.notifications_to(path)), 1)
        self.assert_error(self.close("GEC-unknown-" + uuid.uuid4().hex, demand_url=demand_url),
                          404, "unknown-reference")
        self.assertEqual(len(self.submissions(reference)), 1)

    def test_reference_is_one_escaped_path_segment(self):
        reference = f"GEC/2026 #42?é%-{uuid.uuid4().hex[:8]}"
        self.delivered_demand(reference)
        self.close_accepted(reference, message="ok")
        path = f"/api/mails/{reference}/reply"
        (note,) = self.wait_notifications(path)
        expected = "/api/mails/" + urllib.parse.quote(reference, safe="") + "/reply"
        self.assertEqual(re.sub(r"%[0-9a-f]{2}", lambda m: m.group().upper(), note.raw_path),
                         expected)

    def test_integer_reference_is_its_decimal_text(self):
        number = secrets.randbelow(10**12) + 10**12
        tracking_id = self.mail_accepted(mail_body(number))
        (submission,) = self.wait_submissions(str(number))
        self.assertEqual(submission.json()["data"][REFERENCE_FIELD], str(number))
        self.wait_state(tracking_id, "delivered")
        # The same mail whichever way its id is written.
        self.assertEqual(self.mail_accepted(mail_body(str(number))), tracking_id)
        self.close_accepted(str(number), message="ok")
        self.wait_notifications(f"/api/mails/{number}/reply")

    def test_metadata_keep_their_json_type_and_absent_ones_are_left_out(self):
        reference = new_reference()
        subject = 'État civil — « urgent » 🙂 "cité" \\ {reference} {{x}}\u0001'
        self.mail_accepted(mail_body(reference, subject=subject, sender={"other": "x"},
                                     pages=-2.5e3, urgent=False, arrival_date="2026-11-21"))
        (submission,) = self.wait_submissions(reference)
        data = submission.json()["data"]
        data.pop(DOCUMENT_FIELD)
        self.assertEqual(data, {REFERENCE_FIELD: reference, "objet": subject,
                                "date_arrivee": "2026-11-21", "nombre_pages": -2500,
                                "urgent": False})
        # null is absent too.
        other = new_reference()
        self.mail_accepted(mail_body(other, subject=None, arrival_date=None) | {"subject": None})
        (submission,) = self.wait_submissions(other)
        self.assertNotIn("objet", submission.json()["data"])
        self.assertNotIn("date_arrivee", submission.json()["data"])

    def test_longest_reference_and_file_name_are_accepted(self):
        reference = "é" * 120 + uuid.uuid4().hex[:16]
        self.assertEqual(len(reference.encode()), 256)
        filename = "f" * 251 + ".pdf"
        self.mail_accepted(mail_body(reference, filename=filename))
        (submission,) = self.wait_submissions(reference)
        self.assertEqual(submission.json()["data"][DOCUMENT_FIELD]["filename"], filename)
        self.close_accepted(reference, message="ok")
        self.wait_notifications(f"/api/mails/{reference}/reply")

    def test_absent_closing_values_are_left_out(self):
        absent, null = new_reference(), new_reference()
        for reference in (absent, null):
            self.delivered_demand(reference)
        self.close_accepted(absent)
        self.close_accepted(null, demand_url=None, message=None)
        (note,) = self.wait_notifications(f"/api/mails/{absent}/reply")
        self.assertEqual(note.json(), {"status": "reply-ready"})
        # A string that is exactly one placeholder copies a null as null.
        (note,) = self.wait_notifications(f"/api/mails/{null}/reply")
        self.assertEqual(note.json(), {"status": "reply-ready", "demand": None, "message": None})

    def test_defaults_file_name_channel_and_notification(self):
        reference = new_reference()
        pdf = make_pdf()
        self.delivered_demand(reference, "courrier-petit",
                              {"id": reference, "document": b64(pdf), "filename": "ignored.pdf"})
        (submission,) = self.submissions(reference, "courrier-petit")
        self.assertEqual(submission.json(), {
            "data": {DOCUMENT_FIELD: {"filename": "courrier.pdf",
                                      "content_type": "application/pdf",
                                      "b64_content": b64(pdf)},
                     REFERENCE_FIELD: reference},
            "context": {"channel": "mail"}})
        closing = self.close_accepted(reference, "courrier-petit", message="ignored")
        (note,) = self.wait_notifications(f"/api/small/{reference}")
        self.assertEqual((note.method, note.body, note.idempotency_key), ("POST", b"", closing))

    # -- 2. replays ------------------------------------------------------------------

    def test_same_mail_twice_is_one_demand(self):
        reference = new_reference()
        body = mail_body(reference)
        first = self.mail_accepted(body)
        self.assertEqual(self.mail_accepted(body), first)
        self.wait_state(first, "delivered")
        # Once delivered, and even with other content: still the first mail.
        self.assertEqual(self.mail_accepted(body), first)
        self.assertEqual(self.mail_accepted(mail_body(reference, make_pdf("autre"),
                                                      subject="Autre")), first)
        time.sleep(0.3)
        (submission,) = self.submissions(reference)
        self.assertEqual(submission.headers["idempotency-key"], first)
        self.assertIn(first, self.outbox_ids("courrier"))

    def concurrently(self, count, call):
        """`call()` from `count` threads released at once; their results."""
        barrier = threading.Barrier(count)
        results = [None] * count

        def run(index):
            barrier.wait()
            results[index] = call()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        return results

    def test_same_mail_posted_concurrently_is_one_demand(self):
        reference = new_reference()
        body = mail_body(reference)
        results = self.concurrently(8, lambda: self.post_mail(body))
        ids = {self.accepted(r) for r in results}
        self.assertEqual(len(ids), 1, results)
        (tracking_id,) = ids
        self.wait_state(tracking_id, "delivered")
        time.sleep(0.3)
        self.assertEqual(len(self.submissions(reference)), 1)

    def test_same_closing_sent_concurrently_is_one_notification(self):
        reference = new_reference()
        self.delivered_demand(reference)
        results = self.concurrently(8, lambda: self.close(reference, message="ok"))
        ids = {self.accepted(r) for r in results}
        self.assertEqual(len(ids), 1, results)
        (closing,) = ids
        self.wait_state(closing, "delivered")
        time.sleep(0.3)
        (note,) = self.gec.notifications_to(f"/api/mails/{reference}/reply")
        self.assertEqual(note.idempotency_key, closing)

    def test_closing_again_is_the_first_closing_whatever_its_idempotency_key(self):
        reference = new_reference()
        self.delivered_demand(reference)
        first = self.close_accepted(reference, message="ok",
                                    headers={"Idempotency-Key": "gru-" + uuid.uuid4().hex})
        self.wait_notifications(f"/api/mails/{reference}/reply")
        for headers in ({}, {"Idempotency-Key": "gru-" + uuid.uuid4().hex}):
            with self.subTest(headers=headers):
                self.assertEqual(self.accepted(self.close(reference, message="ok",
                                                          headers=headers)), first)
        time.sleep(0.3)
        self.assertEqual(len(self.gec.notifications_to(f"/api/mails/{reference}/reply")), 1)
    # -- 3. the GRU down, then back --------------------------------------------------

    def test_gru_down_then_back(self):
        self.wcs.script_submit("courrier-lent", [], default=MAINTENANCE)
        self.addCleanup(self.wcs.script_submit, "courrier-lent", [])
        reference = new_reference()
        tracking_id = self.mail_accepted(mail_body(reference), "courrier-lent")
        self.wait_submissions(reference, "courrier-lent", count=2, status=503)
        data = self.delivery(tracking_id, "courrier-lent").json()["data"]
        self.assertEqual(pick(data, "state", "kind", "endpoint", "last_status"),
                         ("pending", "demand", "courrier-lent", 503), data)
        self.assertGreaterEqual(data["attempts"], 2, data)
        # Closing a demand w.c.s. has not created yet: nothing to close.
        self.assert_error(self.close(reference, "courrier-lent", message="trop tôt"),
                          404, "unknown-reference")
        self.wcs.script_submit("courrier-lent", [])
        data = self.wait_state(tracking_id, "delivered", "courrier-lent")
        statuses = [s.status for s in self.submissions(reference, "courrier-lent")]
        self.assertEqual(statuses[-1], 200, statuses)
        self.assertEqual(set(statuses[:-1]), {503}, statuses)
        self.assertGreaterEqual(len(statuses), 3, statuses)
        self.assertEqual((data["attempts"], data["last_status"]), (len(statuses), 200), data)
        # Each attempt signed afresh, all for the same mail.
        submissions = self.submissions(reference, "courrier-lent")
        self.assertEqual(len({s.query for s in submissions}), len(submissions))
        self.assertEqual({s.headers["idempotency-key"] for s in submissions}, {tracking_id})
        closing = self.close_accepted(reference, "courrier-lent", message="ok")
        (note,) = self.wait_notifications(f"/api/mails/{reference}/reply")
        self.assertEqual(note.idempotency_key, closing)
        # The refused early close queued nothing: one notification only.
        self.wait_state(closing, "delivered", "courrier-lent")
        self.assertEqual(len(self.gec.notifications_to(f"/api/mails/{reference}/reply")), 1)

    # -- 4. what the GEC answers -----------------------------------------------------

    def test_gec_400_is_a_dead_letter(self):
        reference = new_reference()
        path = f"/api/mails/{reference}/reply"
        self.gec.script(path, [], default=(400, {"error": "unknown mail"}))
        self.delivered_demand(reference)
        closing = self.close_accepted(reference, message="ok")
        data = self.wait_state(closing, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "kind", "endpoint", "attempts", "last_status",
                              "error_class"),
                         ("dead", "push", "closed", 1, 400, "upstream-error"), data)
        self.assertEqual(len(self.gec.notifications_to(path)), 1)
        listed = self.outbox_cli("list", "--state", "dead", "--connector", "courrier")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        header, *rows = [line.split("\t") for line in listed.stdout.splitlines()]
        (row,) = [dict(zip(header, r)) for r in rows if r[0] == closing]
        self.assertEqual(pick(row, "kind", "connector", "endpoint", "state", "attempts",
                              "last_status", "error_class"),
                         ("push", "courrier", "closed", "dead", "1", "400", "upstream-error"))
        # The correlation went with the close: a replay is the same dead letter.
        self.assertEqual(self.accepted(self.close(reference, message="ok")), closing)
        time.sleep(0.3)
        self.assertEqual(len(self.gec.notifications_to(path)), 1)

    def test_gec_503_then_200_is_retried(self):
        reference = new_reference()
        path = f"/api/mails/{reference}/reply"
        self.gec.script(path, [(503, {"error": "maintenance"})])
        self.delivered_demand(reference)
        rid = "close-rid-" + secrets.token_hex(6)
        closing = self.close_accepted(reference, message="ok", request_id=rid)
        data = self.wait_state(closing, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "attempts", "last_status"), ("delivered", 2, 200),
                         data)
        notes = self.gec.notifications_to(path)
        self.assertEqual([n.status for n in notes], [503, 200])
        self.assertEqual({(n.idempotency_key, n.request_id) for n in notes}, {(closing, rid)})
        self.assertEqual(notes[0].body, notes[1].body)

    def test_gec_unreachable_then_back(self):
        reference = new_reference()
        self.delivered_demand(reference)
        self.gec.stop()
        self.addCleanup(self.gec.restart)
        closing = self.close_accepted(reference, message="ok")
        poll_until(lambda: self.delivery(closing).json()["data"]["attempts"] >= 2, 15,
                   message="the notification was not retried while the GEC was down")
        data = self.delivery(closing).json()["data"]
        self.assertEqual(pick(data, "state", "error_class"), ("pending", "upstream-unreachable"),
                         data)
        self.gec.restart()
        data = self.wait_state(closing, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "last_status"), ("delivered", 200), data)
        self.assertEqual(len(self.gec.notifications_to(f"/api/mails/{reference}/reply")), 1)

    def test_gec_too_slow_is_retried(self):
        reference = new_reference()
        path = f"/api/mails/{reference}/reply"
        # upstream.timeout is 1s.
        self.gec.script(path, [Answer(200, delay=1.6)])
        self.delivered_demand(reference)
        closing = self.close_accepted(reference, message="ok")
        data = self.wait_state(closing, ("dead", "delivered"))
        self.assertEqual(pick(data, "state", "attempts", "last_status"), ("delivered", 2, 200),
                         data)
        self.assertEqual([n.idempotency_key for n in self.gec.notifications_to(path)],
                         [closing, closing])

    def test_gec_refusing_relais_credentials_is_a_dead_letter(self):
        reference = new_reference()
        self.delivered_demand(reference, "courrier-intrus")
        closing = self.close_accepted(reference, "courrier-intrus", message="ok")
        data = self.wait_state(closing, ("dead", "delivered"), "courrier-intrus")
        self.assertEqual(pick(data, "state", "attempts", "last_status", "error_class"),
                         ("dead", 1, 401, "upstream-error"), data)
        refusals = [r for r in self.gec.refusals()[self.refusals_before:]]
        self.assertEqual([(r.method, r.path, r.reason) for r in refusals],
                         [("POST", f"/api/intrus/{reference}", "wrong credentials")])
        self.assertEqual(self.gec.notifications_to(f"/api/intrus/{reference}"), [])

    # -- 5. sizes --------------------------------------------------------------------

    def raw_post(self, path, body, chunked=False, early_wait=1.0, content_length=None,
                 password=GEC_PASSWORD, stop_after=None, leave=False):
        """POSTs `body` to `path` as the GEC on a raw socket: the head first,
        then (unless relais answered within `early_wait` s) the body, stopping
        as soon as an answer arrives or relais cuts the connection, or after
        `stop_after` bytes of it: then the client waits for the answer, or
        with `leave` goes without reading it. Returns the RawReply, read
        even after a reset."""
        auth = self.gec_auth(password)["Authorization"]
        if chunked:
            framing = "Transfer-Encoding: chunked"
            piece = 1 << 16
            payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + piece]), body[i:i + piece])
                               for i in range(0, len(body), piece)) + b"0\r\n\r\n"
        else:
            framing = f"Content-Length: {len(body) if content_length is None else content_length}"
            payload = body
        head = (f"POST {path} HTTP/1.1\r\nHost: relais.test\r\nAuthorization: {auth}\r\n"
                f"Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n")
        view = memoryview(payload)
        sent = 0
        data = b""
        with socket.create_connection(("127.0.0.1", self.relais.port), timeout=30) as sock:
            sock.sendall(head.encode())
            early = bool(select.select([sock], [], [], early_wait)[0])
            while not early and sent < len(view):
                readable, writable, _ = select.select([sock], [sock], [], 10)
                if readable or not writable:
                    break
                try:
                    sent += sock.send(view[sent:sent + (1 << 16)])
                except (BrokenPipeError, ConnectionResetError):
                    break
                if stop_after is not None and sent >= stop_after:
                    if leave:
                        return RawReply(b"", early, sent)
                    break
            sock.settimeout(10)
            while not _complete(data):
                try:
                    piece = sock.recv(1 << 16)
                except (ConnectionResetError, socket.timeout):
                    break
                if not piece:
                    break
                data += piece
        return RawReply(data, early, sent)

    def assert_raw_error(self, reply, status, err_class):
        self.assertEqual(reply.status, status, reply)
        body = reply.json()
        self.assertEqual((body["err"], body["err_class"]), (1, err_class), body)

    def test_25_mb_pdf_is_413_and_nothing_is_queued(self):
        before = self.outbox_ids("courrier-gros")
        reference = new_reference()
        pdf = make_pdf(size=25 * 1000 * 1000)
        body = json.dumps(mail_body(reference, pdf)).encode()
        self.assertGreater(len(body), endpoint_limit(DEFAULT_MAX_DOCUMENT))
        reply = self.raw_post("/mail/courrier-gros/mails", body)
        self.assert_raw_error(reply, 413, "payload-too-large")
        self.assertTrue(reply.early, f"413 not answered from the head: {reply}")
        # Chunked, the length is learnt as the body comes.
        reply = self.raw_post("/mail/courrier-gros/mails", body, chunked=True, early_wait=0)
        self.assert_raw_error(reply, 413, "payload-too-large")
        self.assertLess(reply.sent, len(body), reply)
        self.assertEqual(self.outbox_ids("courrier-gros"), before)
        time.sleep(0.2)
        self.assertEqual(self.submissions(reference, "courrier-gros"), [])
        # relais still serves.
        self.delivered_demand(new_reference(), "courrier-gros")

    def test_a_refused_caller_is_answered_before_its_body_is_read(self):
        # The body is streamed: the caller is authenticated on the head, and
        # none of a 7 MB body is read before it is refused.
        body = json.dumps(mail_body(new_reference(), make_pdf(size=5 * 1000 * 1000))).encode()
        reply = self.raw_post("/mail/courrier-gros/mails", body, password="wrong")
        self.assert_raw_error(reply, 403, "invalid-credentials")
        self.assertTrue(reply.early, f"403 not answered from the head: {reply}")
        self.assertEqual(reply.sent, 0)

    def test_100_continue_is_sent_once_the_caller_is_let_in(self):
        # A client sending `Expect: 100-continue` (PHP's curl does, for large
        # bodies) sends its body only after the interim answer: a caller
        # refused gets its 403 instead, and sends nothing.
        reference = new_reference()
        body = json.dumps(mail_body(reference)).encode()
        for password, expected in ((GEC_PASSWORD, 202), ("wrong", 403)):
            head = (f"POST /mail/courrier/mails HTTP/1.1\r\nHost: relais.test\r\n"
                    f"Authorization: {self.gec_auth(password)['Authorization']}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    "Expect: 100-continue\r\nConnection: close\r\n\r\n")
            with socket.create_connection(("127.0.0.1", self.relais.port), timeout=10) as sock:
                sock.sendall(head.encode())
                data = b""
                while b"\r\n\r\n" not in data:
                    data += sock.recv(65536)
                interim = data.startswith(b"HTTP/1.1 100 ")
                self.assertEqual(interim, expected == 202, data)
                if interim:
                    data = data.partition(b"\r\n\r\n")[2]
                    sock.sendall(body)
                while not _complete(data):
                    piece = sock.recv(65536)
                    if not piece:
                        break
                    data += piece
            reply = RawReply(data, interim, len(body) if interim else 0)
            if expected == 202:
                self.accepted(reply)
            else:
                self.assert_raw_error(reply, 403, "invalid-credentials")
        self.wait_submissions(reference)

    def test_a_mail_cut_short_leaves_nothing_behind(self):
        before = self.outbox_ids("courrier-gros")
        reference = new_reference()
        body = json.dumps(mail_body(reference, make_pdf(size=3 * 1000 * 1000))).encode()
        mark = self.relais._log_size()
        reply = self.raw_post("/mail/courrier-gros/mails", body, stop_after=len(body) // 2,
                              leave=True)
        self.assertLess(reply.sent, len(body))
        # relais reads what came, stores it, sees the client gone and drops
        # every piece it had stored before it logs the request.
        poll_until(lambda: [e for e in self.relais.log_lines(mark)
                            if e.get("event") == "request" and e.get("endpoint") == "mails"],
                   10, message="the mail cut short was never logged")
        (line,) = [e for e in self.relais.log_lines(mark) if e.get("event") == "request"]
        self.assertEqual((line["status"], line["err_class"]), (400, "bad-request"), line)
        self.assert_nothing_left(reference, "courrier-gros", before)

    def test_a_mail_whose_body_stalls_is_408_and_leaves_nothing_behind(self):
        before = self.outbox_ids("courrier-gros")
        reference = new_reference()
        body = json.dumps(mail_body(reference, make_pdf(size=3 * 1000 * 1000))).encode()
        reply = self.raw_post("/mail/courrier-gros/mails", body, stop_after=len(body) // 2)
        self.assert_raw_error(reply, 408, "request-timeout")
        self.assertLess(reply.sent, len(body))
        self.assert_nothing_left(reference, "courrier-gros", before)

    def assert_nothing_left(self, reference, slug, outbox_before):
        """No message, no document piece, no submission for `reference`;
        and relais still serves."""
        self.assertEqual(document_pieces(self.ws), 0)
        self.assertEqual(self.outbox_ids(slug), outbox_before)
        self.assertEqual(self.submissions(reference, slug), [])
        self.delivered_demand(new_reference(), slug)

    def test_document_size_limits(self):
        slug = "courrier-petit"
        before = self.outbox_ids(slug)
        limit = endpoint_limit(SMALL_MAX_DOCUMENT)
        over = new_reference()
        # Decoded one byte beyond max_document_bytes, body well within the endpoint's limit.
        body = mail_body(over, make_pdf(size=SMALL_MAX_DOCUMENT + 1))
        self.assertLess(len(json.dumps(body)), limit)
        self.assert_error(self.post_mail(body, slug), 413, "payload-too-large")
        # A body beyond the endpoint's limit: from the head, and chunked.
        big = json.dumps(mail_body(over, make_pdf(), padding="x" * limit)).encode()
        reply = self.raw_post(f"/mail/{slug}/mails", big)
        self.assert_raw_error(reply, 413, "payload-too-large")
        self.assertTrue(reply.early, f"413 not answered from the head: {reply}")
        reply = self.raw_post(f"/mail/{slug}/mails", big, chunked=True, early_wait=0)
        self.assert_raw_error(reply, 413, "payload-too-large")
        self.assertEqual(self.outbox_ids(slug), before)
        # Exactly at the limit: accepted.
        at_limit = new_reference()
        pdf = make_pdf(size=SMALL_MAX_DOCUMENT)
        tracking_id = self.mail_accepted(mail_body(at_limit, pdf), slug)
        (submission,) = self.wait_submissions(at_limit, slug)
        self.assertEqual(base64.b64decode(
            submission.json()["data"][DOCUMENT_FIELD]["b64_content"]), pdf)
        # A body of exactly the endpoint's limit is read; one byte more is not.
        full = new_reference()
        base = len(json.dumps(mail_body(full, pdf, padding="")))
        body = json.dumps(mail_body(full, pdf, padding="x" * (limit - base)))
        self.assertEqual(len(body), limit)
        full_id = self.mail_accepted(body, slug)
        beyond = new_reference()
        body = json.dumps(mail_body(beyond, pdf, padding="x" * (limit - base + 1)))
        self.assertEqual(len(body), limit + 1)
        self.assert_error(self.post_mail(body, slug), 413, "payload-too-large")
        self.assertEqual(set(self.outbox_ids(slug)) - set(before), {tracking_id, full_id})
        self.assertEqual(self.submissions(over, slug), [])
        self.assertEqual(self.submissions(beyond, slug), [])

    # -- 6. refusals -----------------------------------------------------------------

    def test_bad_mails_are_refused_exactly(self):
        before = self.outbox_ids("courrier")
        marker = new_reference()
        pdf = make_pdf()
        unpadded = b64(pdf + b"\n" * (2 if len(pdf) % 3 == 2 else 1)).rstrip("=")
        self.assertNotEqual(len(unpadded) % 4, 0)
        url_safe = base64.urlsafe_b64encode(b"%PDF-1.4\n\xfb\xff\xfe").decode()
        self.assertRegex(url_safe, "[-_]")
        cases = [
            ("not JSON", b'{"id": "x", ', 400, "invalid-json"),
            ("a JSON array", [mail_body(marker)], 400, "invalid-json"),
            ("a JSON string", '"GEC-1"', 400, "invalid-json"),
            ("not UTF-8", json.dumps(mail_body(marker, subject="@@")).encode().replace(
                b"@@", b"\xff\xfe"), 400, "invalid-json"),
            ("a lone surrogate", json.dumps(mail_body(marker, subject="@@")).replace(
                "@@", "\\ud800"), 400, "invalid-json"),
            ("no reference", mail_body(None), 400, "missing-parameter"),
            ("null reference", mail_body(marker) | {"id": None}, 400, "missing-parameter"),
            ("reference an object", mail_body({"n": marker}), 400, "invalid-parameter"),
            ("reference an array", mail_body([marker]), 400, "invalid-parameter"),
            ("reference a boolean", mail_body(True), 400, "invalid-parameter"),
            ("reference a fraction", mail_body(1.5), 400, "invalid-parameter"),
            ("reference empty", mail_body(""), 400, "invalid-parameter"),
            ("reference too long", mail_body("R" * 257), 400, "invalid-parameter"),
            ("reference of 257 bytes in UTF-8", mail_body("é" * 128 + "x"),
             400, "invalid-parameter"),
            ("reference with a newline", mail_body(marker + "\n"), 400, "invalid-parameter"),
            ("no document", mail_body(marker, document=None), 400, "missing-parameter"),
            ("document a number", mail_body(marker, document=12), 400, "invalid-parameter"),
            ("document not base64", mail_body(marker, document="%PDF-1.4 not base64!"),
             400, "invalid-parameter"),
            ("document without padding", mail_body(marker, document=unpadded),
             400, "invalid-parameter"),
            ("document with a newline", mail_body(marker, document=b64(pdf)[:40] + "\n" +
                                                  b64(pdf)[40:]), 400, "invalid-parameter"),
            ("document in the URL-safe alphabet", mail_body(marker, document=url_safe),
             400, "invalid-parameter"),
            ("document not a PDF", mail_body(marker, document=b64(b"GIF89a" + b"\0" * 64)),
             400, "invalid-parameter"),
            ("document empty", mail_body(marker, document=""), 400, "invalid-parameter"),
            ("file name with a slash", mail_body(marker, filename="../lettre.pdf"),
             400, "invalid-parameter"),
            ("file name with a backslash", mail_body(marker, filename="a\\b.pdf"),
             400, "invalid-parameter"),
            ("file name with a control character", mail_body(marker, filename="a\tb.pdf"),
             400, "invalid-parameter"),
            ("file name empty", mail_body(marker, filename=""), 400, "invalid-parameter"),
            ("file name too long", mail_body(marker, filename="f" * 252 + ".pdf"),
             400, "invalid-parameter"),
            ("file name a number", mail_body(marker, filename=7), 400, "invalid-parameter"),
            ("metadata an object", mail_body(marker, subject={"a": 1}), 400, "invalid-parameter"),
            ("metadata an array", mail_body(marker, arrival_date=["2026"]),
             400, "invalid-parameter"),
        ]
        for name, body, status, err_class in cases:
            with self.subTest(name):
                r = self.post_mail(body)
                self.assert_error(r, status, err_class)
                # A refusal says what is wrong, never with the values.
                for value in (marker, "Jeanne Martin", "lettre.pdf"):
                    self.assertNotIn(value.encode(), r.body)
        r = self.post_mail(mail_body(marker, subject={"secret": marker}))
        self.assertIn("subject", r.json()["err_desc"])
        self.assertNotIn(marker, r.json()["err_desc"])
        self.assert_error(self.relais.get("/mail/courrier/mails", headers=self.gec_auth()),
                          405, "method-not-allowed")
        self.assert_error(self.relais.request("PUT", "/mail/courrier/mails",
                                              body=json.dumps(mail_body(marker)),
                                              headers=self.gec_auth()),
                          405, "method-not-allowed")
        self.assert_error(self.relais.post("/mail/courrier/mails/extra",
                                           body=json.dumps(mail_body(marker)),
                                           headers=self.gec_auth()), 404, "not-found")
        # Who may post.
        self.assert_error(self.relais.post("/mail/courrier/mails", body=json.dumps(
            mail_body(marker)), headers={"Content-Type": "application/json"}),
            401, "missing-credentials")
        self.assert_error(self.post_mail(mail_body(marker), auth=self.gec_auth("wrong")),
                          403, "invalid-credentials")
        self.assert_error(self.relais.post(self.signed("/mail/courrier/mails"),
                                           body=json.dumps(mail_body(marker)),
                                           headers={"Content-Type": "application/json"}),
                          403, "not-granted")
        # Nothing was queued, nothing reached w.c.s.
        self.assertEqual(self.outbox_ids("courrier"), before)
        time.sleep(0.2)
        self.assertEqual(self.submissions(marker), [])

    def test_bad_closings_are_refused_exactly(self):
        reference = new_reference()
        self.delivered_demand(reference)
        self.assert_error(self.close(body=b'{"reference": '), 400, "invalid-json")
        self.assert_error(self.close(body=[reference]), 400, "invalid-json")
        self.assert_error(self.close(body={"message": "sans référence"}), 400,
                          "missing-parameter")
        self.assert_error(self.close(body={"reference": 12, "message": "x"}), 400,
                          "invalid-parameter")
        self.assert_error(self.close(reference + "\r\n", message="x"), 400, "invalid-parameter")
        self.assert_error(self.close("", message="x"), 400, "invalid-parameter")
        self.assert_error(self.close(reference, method="GET", message="x"), 405,
                          "method-not-allowed")
        # Who may close: the GEC is not granted it, nor anonymous callers.
        self.assert_error(self.relais.post("/mail/courrier/closed", body=json.dumps(
            {"reference": reference}), headers=dict(self.gec_auth(), **{
                "Content-Type": "application/json"})), 403, "not-granted")
        self.assert_error(self.relais.post("/mail/courrier/closed", body=json.dumps(
            {"reference": reference}), headers={"Content-Type": "application/json"}),
            401, "missing-credentials")
        # Another connector knows nothing of this mail, even of the same family.
        self.assert_error(self.close(reference, "courrier-lent", message="x"), 404,
                          "unknown-reference")
        # None of them closed the demand: the first accepted close is the one sent.
        closing = self.close_accepted(reference, message="enfin")
        (note,) = self.wait_notifications(f"/api/mails/{reference}/reply")
        self.assertEqual((note.idempotency_key, note.json()["message"]), (closing, "enfin"))

    # -- 7. canaries -----------------------------------------------------------------

    def canaries(self):
        return {name: f"CANARY-{name}-{uuid.uuid4().hex}" for name in
                ("subject", "sender", "filename", "pdf", "message")}

    def canary_mail(self, reference, canaries):
        pdf = make_pdf(f"Objet: {canaries['pdf']}")
        return mail_body(reference, pdf, filename=canaries["filename"] + ".pdf",
                         subject=canaries["subject"], sender={"name": canaries["sender"]}), pdf

    def assert_no_leak(self, canaries, clear_only=()):
        """No canary anywhere relais wrote, in clear or in base64; the
        `clear_only` values (identifiers kept in the outbox) not in the logs."""
        written = written_bytes(self.ws)
        for name, value in canaries.items():
            for form in {value.encode()} | base64_forms(value.encode()):
                self.assertNotIn(form, written, f"canary {name} written as {form!r}")
        logs = b""
        for name in (LOG_FILE, "stdout.log", "stderr.log"):
            with open(os.path.join(self.ws.root, name), "rb") as f:
                logs += f.read()
        for value in clear_only:
            self.assertNotIn(value.encode(), logs, f"{value!r} logged")
        self.assertTrue(logs, "relais logged nothing at debug level")

    def test_canaries_never_written_after_a_round_trip(self):
        canaries = self.canaries()
        reference = new_reference()
        body, pdf = self.canary_mail(reference, canaries)
        tracking_id = self.mail_accepted(body)
        (submission,) = self.wait_submissions(reference)
        # Control: the canaries did travel through relais.
        sent = submission.json()["data"]
        self.assertEqual((sent["objet"], sent["expediteur"], sent[DOCUMENT_FIELD]["filename"]),
                         (canaries["subject"], canaries["sender"], canaries["filename"] + ".pdf"))
        self.assertIn(canaries["pdf"].encode(),
                      base64.b64decode(sent[DOCUMENT_FIELD]["b64_content"]))
        self.wait_state(tracking_id, "delivered")
        demand_url = submission.answer["data"]["url"]
        closing = self.close_accepted(reference, demand_url=demand_url,
                                      message=canaries["message"])
        (note,) = self.wait_notifications(f"/api/mails/{reference}/reply")
        self.assertEqual(note.json()["message"], canaries["message"])
        self.wait_state(closing, "delivered")
        self.assert_no_leak(canaries, clear_only=[reference])
        # Controls: the base64 search finds the PDF's canary where it travelled,
        # and what relais keeps about the mail is found by the same search.
        self.assertTrue(any(form in b64(pdf).encode()
                            for form in base64_forms(canaries["pdf"].encode())))
        written = written_bytes(self.ws)
        self.assertIn(tracking_id.encode(), written)
        self.assertIn(closing.encode(), written)

    def test_canaries_never_written_while_the_demand_is_pending(self):
        self.wcs.script_submit("courrier-attente", [], default=MAINTENANCE)
        canaries = self.canaries()
        reference = new_reference()
        body, _ = self.canary_mail(reference, canaries)
        tracking_id = self.mail_accepted(body, "courrier-attente")
        # Sealed in the outbox and read back for two attempts by now.
        (first, _) = self.wait_submissions(reference, "courrier-attente", count=2, status=503)
        self.assertEqual(first.json()["data"]["objet"], canaries["subject"])
        shown = self.show(tracking_id)
        self.assertEqual((shown["state"], shown["has_payload"]), ("pending", True), shown)
        # The GRU has no demand to close yet; its message is refused unread.
        self.assert_error(self.close(reference, "courrier-attente", message=canaries["message"]),
                          404, "unknown-reference")
        self.assert_no_leak(canaries, clear_only=[reference])
        self.assertIn(tracking_id.encode(), written_bytes(self.ws))

    # -- 8. reload -------------------------------------------------------------------

    def test_reload_keeps_a_pending_correlation(self):
        reference = new_reference()
        tracking_id, demand_url = self.delivered_demand(reference)
        reloads = len([l for l in self.relais.log_lines() if l.get("event") == "config_reloaded"])
        self.relais.signal(signal.SIGHUP)
        poll_until(lambda: len([l for l in self.relais.log_lines()
                                if l.get("event") == "config_reloaded"]) > reloads, 10,
                   message=lambda: "not reloaded:\n" + self.relais.log_text())
        # Still the same mail after the reload.
        self.assertEqual(self.mail_accepted(mail_body(reference)), tracking_id)
        closing = self.close_accepted(reference, demand_url=demand_url, message="après reload")
        (note,) = self.wait_notifications(f"/api/mails/{reference}/reply")
        self.assertEqual((note.idempotency_key, note.json()["demand"]), (closing, demand_url))
        self.assertEqual(len(self.submissions(reference)), 1)


class CrashTest(MailCase):
    def test_mail_accepted_survives_kill_9(self):
        self.start_own_relais(hold_slug="courrier-lent")
        reference = new_reference()
        pdf = make_pdf()
        tracking_id = self.mail_accepted(mail_body(reference, pdf), "courrier-lent")
        self.wait_submissions(reference, "courrier-lent", status=503)
        self.relais.kill()
        self.wcs.script_submit("courrier-lent", [])
        self.relais.start()
        data = self.wait_state(tracking_id, "delivered", "courrier-lent")
        self.assertEqual(data["last_status"], 200, data)
        (submission,) = self.submissions(reference, "courrier-lent", status=200)
        self.assertEqual(base64.b64decode(
            submission.json()["data"][DOCUMENT_FIELD]["b64_content"]), pdf)
        closing = self.close_accepted(reference, "courrier-lent", message="ok")
        (note,) = self.wait_notifications(f"/api/mails/{reference}/reply")
        self.assertEqual(note.idempotency_key, closing)


def document_pieces(ws):
    """Rows of document pieces in the family's outbox database."""
    path = os.path.join(ws.root, "var", "outbox", f"{FAMILY}.sqlite")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM document_pieces").fetchone()[0]


class LargeDocumentTest(MailCase):
    """A 20 MiB scan crosses relais in pieces, on the way in (GEC -> outbox)
    and on the way out (outbox -> w.c.s.): relais's peak memory grows by a
    small fraction of the 28 MB body, whatever the document's size."""

    # Pieces in flight (64 KiB reads, 256 KiB outbox pieces sealed and read
    # back), SQLite's page cache, and the pages mimalloc keeps resident for
    # its reset delay after they are freed (7 to 8 MiB in all with mimalloc,
    # 3.4 MiB with glibc's malloc). One whole copy of the document (20 MiB)
    # or of the body (28 MB) is well above this bound.
    GROWTH_KIB = 12 * 1024

    def test_20_mib_document_is_streamed_in_and_out(self):
        self.start_own_relais(hold_slug="courrier-lent")
        pid = self.relais.proc.pid
        # A small mail first: pools, caches and the database are set up.
        self.delivered_demand(new_reference())
        baseline = peak_memory_kib(pid)

        reference = new_reference()
        pdf = make_pdf(size=DEFAULT_MAX_DOCUMENT)
        body = json.dumps(mail_body(reference, pdf)).encode()
        self.assertGreater(len(body), 26 * 1024 * 1024)
        tracking_id = self.mail_accepted(body, "courrier-lent")
        self.assertGreater(document_pieces(self.ws), 100)
        received = peak_memory_kib(pid) - baseline
        # w.c.s. in maintenance: the whole body was sent once, and refused.
        (refused,) = self.wait_submissions(reference, "courrier-lent", status=503)
        self.assertEqual(base64.b64decode(refused.json()["data"][DOCUMENT_FIELD]["b64_content"]),
                         pdf)
        self.wcs.script_submit("courrier-lent", [])
        self.wait_state(tracking_id, "delivered", "courrier-lent", timeout=60)
        (submission,) = self.submissions(reference, "courrier-lent", status=200)
        self.assertEqual(
            base64.b64decode(submission.json()["data"][DOCUMENT_FIELD]["b64_content"]), pdf)
        sent = peak_memory_kib(pid) - baseline
        print(f"\nrelais VmHWM {baseline} KiB before a {len(body)}-byte mail, "
              f"+{received} KiB once received, +{sent} KiB once delivered twice")
        if memory_bounds_apply():
            self.assertLess(received, self.GROWTH_KIB)
            self.assertLess(sent, self.GROWTH_KIB)
        # Delivered: the document left the database with the payload.
        self.assertEqual(document_pieces(self.ws), 0)


class NoGruTest(MailCase):
    def test_mail_is_refused_503_without_gru(self):
        self.start_own_relais(gru=False)
        reference = new_reference()
        # The GEC must keep the mail and post it again later: no 202 for a
        # demand that was never queued.
        self.assert_error(self.post_mail(mail_body(reference)), 503, "outbox-unavailable")
        self.assertEqual(self.outbox_ids("courrier"), {})
        self.assertEqual(self.wcs.submissions, [])
        with open(os.path.join(self.ws.root, LOG_FILE), "rb") as f:
            self.assertNotIn(reference.encode(), f.read())


if __name__ == "__main__":
    unittest.main()
