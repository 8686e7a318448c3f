"""A fake w.c.s. (the GRU core) receiving the demands relais opens for
connectors (Python stdlib only): `POST /api/formdefs/<slug>/submit`, each
call's Publik signature checked as w.c.s. does (tests/support/publik.py:
known orig, HMAC, 30 s window, nonce never seen before). A refused
signature is answered 403 and recorded in `refused` (a test expects it
empty).

Answers are scripted per form slug:

    wcs.script("appel-flaky", [(503, {...})] * 2)    # twice, then the default
    wcs.script("appel-supprime", [], default=NOT_FOUND)

The default answer is 200 `{"err": 0, "data": {"id": …, "url": …}}`, as
w.c.s. answers a submission.
"""
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass

import publik
from loopback_server import LoopbackHandler, LoopbackServer, parse_target

UNAVAILABLE = (503, {"err": 1, "err_desc": "maintenance"})
NOT_FOUND = (404, {"err": 1, "err_desc": "unknown formdef"})

SUBMIT_PATH = re.compile(r"^/api/formdefs/(?P<formdef>[^/]+)/submit$")


@dataclass
class Submission:
    """One call whose signature w.c.s. accepted, whatever it answered."""
    formdef: str
    query: str          # raw, signature included
    orig: str
    headers: dict       # lower-case name -> value
    body: bytes
    status: int         # what the fake answered
    at: float

    def json(self):
        return json.loads(self.body)


class _Handler(LoopbackHandler):
    server_version = "FakeWcsSubmit/1"

    def do_POST(self):
        status, answer = self.owner._handle(self.command, self.path, self.headers,
                                            self.read_body())
        self.send(status, answer)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST


class FakeWcsSubmit(LoopbackServer):
    """The fake GRU core; `url` ends without a slash."""

    handler_class = _Handler
    thread_name = "fake-wcs-submit"

    def __init__(self, orig, key, host="127.0.0.1"):
        self.orig = orig
        self.key = key
        self.submissions = []
        self.refused = []
        self._scripts = {}
        self._numbers = itertools.count(1)
        self._nonces = publik.NonceMemory()
        self._lock = threading.Lock()
        super().__init__(host)

    def script(self, formdef, answers, default=None):
        """The next submissions to `formdef` get `answers` in order, then
        `default` (None: a created demand); each answer is (status, JSON)."""
        with self._lock:
            self._scripts[formdef] = (list(answers), default)

    def submissions_to(self, formdef, status=None):
        with self._lock:
            return [s for s in self.submissions
                    if s.formdef == formdef and (status is None or s.status == status)]

    def _answer(self, formdef):
        with self._lock:
            answers, default = self._scripts.get(formdef, ([], None))
            answer = answers.pop(0) if answers else default
            if answer is not None:
                return answer
            number = next(self._numbers)
            return 200, {"err": 0, "data": {"id": str(number),
                                            "url": f"{self.url}/{formdef}/{number}/"}}

    def _handle(self, method, raw_target, headers, body):
        target = parse_target(raw_target)
        match = SUBMIT_PATH.match(target.path)
        if method != "POST" or match is None:
            return 404, {"err": 1, "err_desc": "no such page"}
        try:
            with self._lock:
                orig = publik.verify_query(target.raw_query, {self.orig: self.key},
                                           nonces=self._nonces)
        except publik.SignatureError as error:
            with self._lock:
                self.refused.append((target.path, error.err_class, error.reason))
            return 403, {"err": 1, "err_desc": "invalid signature"}
        status, answer = self._answer(match["formdef"])
        with self._lock:
            self.submissions.append(Submission(
                formdef=match["formdef"], query=target.raw_query, orig=orig,
                headers={k.lower(): v for k, v in headers.items()}, body=body, status=status,
                at=time.monotonic()))
        return status, answer
