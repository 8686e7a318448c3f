"""A fake w.c.s. (the GRU core) receiving what relais sends it (Python
stdlib only):

- the workflow triggers relais relays,
  `POST /<formdef>/<id>/jump/trigger/<trigger>/`, recorded in `triggers`;
- the demands relais opens for connectors,
  `POST /api/formdefs/<slug>/submit`, recorded in `submissions`.

Every call's Publik signature is checked exactly as w.c.s. does, with the
independent implementation of tests/support/publik.py: known orig, HMAC
over the query up to `&signature=`, timestamp within 30 s, nonce never
seen before (one nonce memory for both kinds of call). A refused signature
is answered 403 and recorded in `refused` (a test expects it empty).

What a call answers is scripted per trigger name or per form slug:

    wcs.script("accepte", [PROCESSING] * 2)                # twice, then the default
    wcs.script("refuse", [], default=(404, {...}))         # always 404
    wcs.script_submit("appel-flaky", [MAINTENANCE] * 2)
    wcs.script_submit("appel-supprime", [], default=NOT_FOUND)

A trigger's default answer is 200 `{"err": 0}`; a submission's is 200
`{"err": 0, "data": {"id": …, "url": …}}`, as w.c.s. answers a created
demand.
"""
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass

import publik
from loopback_server import LoopbackHandler, LoopbackServer, parse_target

OK = (200, {"err": 0})
PROCESSING = (403, {"err": 1, "err_desc": "formdata currently processing actions"})
FORBIDDEN = (403, {"err": 1, "err_desc": "insufficient roles"})
UNAVAILABLE = (404, {"err": 1, "err_desc": "trigger not available"})
MAINTENANCE = (503, {"err": 1, "err_desc": "maintenance"})
NOT_FOUND = (404, {"err": 1, "err_desc": "unknown formdef"})

TRIGGER_PATH = re.compile(r"^/(?P<formdef>[^/]+)/(?P<id>[^/]+)/jump/trigger/(?P<trigger>[^/]+)/?$")
SUBMIT_PATH = re.compile(r"^/api/formdefs/(?P<formdef>[^/]+)/submit$")


@dataclass
class Call:
    """One call whose signature w.c.s. accepted, whatever it answered."""
    query: str          # raw, signature included
    orig: str
    headers: dict       # lower-case name -> value
    body: bytes
    status: int         # what the fake answered
    at: float

    def json(self):
        return json.loads(self.body)


@dataclass
class Trigger(Call):
    path: str
    form_url: str       # the demand URL the trigger was called on
    trigger: str


@dataclass
class Submission(Call):
    formdef: str
    answer: dict = None  # the JSON the fake answered (a created demand: data.url)


@dataclass
class Refused:
    path: str
    err_class: str
    reason: str


class _Handler(LoopbackHandler):
    server_version = "FakeWcs/1"

    def do_POST(self):
        status, answer = self.owner._handle(self.command, self.path, self.headers,
                                            self.read_body())
        self.send(status, answer)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST


class FakeWcs(LoopbackServer):
    """The fake GRU core; `url` ends without a slash."""

    handler_class = _Handler
    thread_name = "fake-wcs"

    def __init__(self, orig, key, host="127.0.0.1"):
        self.orig = orig
        self.key = key
        self.triggers = []
        self.submissions = []
        self.refused = []
        # (kind, name) -> (answers left, default); a None answer is computed.
        self._scripts = {}
        self._numbers = itertools.count(1)
        self._nonces = publik.NonceMemory()
        self._lock = threading.Lock()
        super().__init__(host)

    def form_url(self, formdef, number):
        """A demand URL as w.c.s. gives it (trailing slash)."""
        return f"{self.url}/{formdef}/{number}/"

    def script(self, trigger, answers, default=OK):
        """The next calls of `trigger` get `answers` in order, then `default`;
        each answer is (status, JSON body)."""
        with self._lock:
            self._scripts[("trigger", trigger)] = (list(answers), default)

    def script_submit(self, formdef, answers, default=None):
        """The next submissions to `formdef` get `answers` in order, then
        `default` (None: a created demand); each answer is (status, JSON)."""
        with self._lock:
            self._scripts[("submit", formdef)] = (list(answers), default)

    def triggers_on(self, form_url):
        """Accepted-signature calls on that demand, in arrival order."""
        with self._lock:
            return [t for t in self.triggers if t.form_url == form_url]

    def submissions_to(self, formdef, status=None):
        """Accepted-signature submissions to `formdef` (answered `status` if
        given), in arrival order."""
        with self._lock:
            return [s for s in self.submissions
                    if s.formdef == formdef and (status is None or s.status == status)]

    def _answer(self, kind, name):
        with self._lock:
            answers, default = self._scripts.get((kind, name), ([], None))
            answer = answers.pop(0) if answers else default
            if answer is not None:
                return answer
            if kind == "trigger":
                return OK
            number = next(self._numbers)
            return 200, {"err": 0, "data": {"id": str(number), "url": self.form_url(name, number)}}

    def _handle(self, method, raw_target, headers, body):
        target = parse_target(raw_target)
        path, query = target.path, target.raw_query
        trigger = TRIGGER_PATH.match(path)
        submit = SUBMIT_PATH.match(path)
        if method != "POST" or (trigger is None and submit is None):
            return 404, {"err": 1, "err_desc": "no such page"}
        try:
            with self._lock:
                orig = publik.verify_query(query, {self.orig: self.key}, nonces=self._nonces)
        except publik.SignatureError as error:
            with self._lock:
                self.refused.append(Refused(path, error.err_class, error.reason))
            return 403, {"err": 1, "err_desc": "invalid signature"}
        headers = {k.lower(): v for k, v in headers.items()}
        if trigger is not None:
            status, answer = self._answer("trigger", trigger["trigger"])
            call = Trigger(path=path, form_url=self.form_url(trigger["formdef"], trigger["id"]),
                           trigger=trigger["trigger"], query=query, orig=orig, headers=headers,
                           body=body, status=status, at=time.monotonic())
            calls = self.triggers
        else:
            status, answer = self._answer("submit", submit["formdef"])
            call = Submission(formdef=submit["formdef"], query=query, orig=orig, headers=headers,
                              body=body, status=status, at=time.monotonic(), answer=answer)
            calls = self.submissions
        with self._lock:
            calls.append(call)
        return status, answer
