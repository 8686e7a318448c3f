"""A fake w.c.s. (the GRU core) receiving the workflow triggers relais
relays (Python stdlib only).

It serves `POST /<formdef>/<id>/jump/trigger/<trigger>/` and checks the
Publik signature of every call exactly as w.c.s. does, with the
independent implementation of tests/support/publik.py: known orig, HMAC
over the query up to `&signature=`, timestamp within 30 s, nonce never
seen before. A refused signature is answered 403 and recorded in
`refused` (a test expects it empty).

What a trigger answers is scripted per trigger name:

    wcs.script("accepte", [(403, PROCESSING)] * 2)   # twice, then the default
    wcs.script("refuse", [], default=(404, {...}))   # always 404

The default answer is 200 `{"err": 0}`.
"""
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

TRIGGER_PATH = re.compile(r"^/(?P<formdef>[^/]+)/(?P<id>[^/]+)/jump/trigger/(?P<trigger>[^/]+)/?$")


@dataclass
class Trigger:
    """One signed trigger call w.c.s. accepted the signature of."""
    path: str
    form_url: str       # the demand URL the trigger was called on
    trigger: str
    query: str          # raw, signature included
    orig: str
    headers: dict       # lower-case name -> value
    body: bytes
    status: int         # what the fake answered
    at: float

    def json(self):
        return json.loads(self.body)


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
        self.refused = []
        self._scripts = {}
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
            self._scripts[trigger] = (list(answers), default)

    def triggers_on(self, form_url):
        """Accepted-signature calls on that demand, in arrival order."""
        with self._lock:
            return [t for t in self.triggers if t.form_url == form_url]

    def _answer(self, trigger):
        with self._lock:
            answers, default = self._scripts.get(trigger, ([], OK))
            return answers.pop(0) if answers else default

    def _handle(self, method, raw_target, headers, body):
        target = parse_target(raw_target)
        path, query = target.path, target.raw_query
        match = TRIGGER_PATH.match(path)
        if method != "POST" or match is None:
            return 404, {"err": 1, "err_desc": "no such page"}
        try:
            with self._lock:
                orig = publik.verify_query(query, {self.orig: self.key}, nonces=self._nonces)
        except publik.SignatureError as error:
            with self._lock:
                self.refused.append(Refused(path, error.err_class, error.reason))
            return 403, {"err": 1, "err_desc": "invalid signature"}
        status, answer = self._answer(match["trigger"])
        form_url = f"{self.url}/{match['formdef']}/{match['id']}/"
        with self._lock:
            self.triggers.append(Trigger(
                path=path, form_url=form_url, trigger=match["trigger"], query=query, orig=orig,
                headers={k.lower(): v for k, v in headers.items()}, body=body, status=status,
                at=time.monotonic()))
        return status, answer
