"""A fake GEC (mail-management system: Maarch Courrier, Elise...) receiving
the notifications relais sends once the GRU core closes a demand opened for
a mail (Python stdlib only).

Every request that carries the expected HTTP Basic credentials is recorded
in `notifications` (method, path, query, headers, body, what the fake
answered, time of arrival); any other is answered 401 with a
`WWW-Authenticate` challenge and recorded in `refused` instead (a test that
expects relais to authenticate checks it stays empty).

What a path answers is scripted, as fake_wcs's submissions are:

    gec.script("/api/mails/GEC-1/reply", [(503, {"error": "busy"})])   # once, then 200 {}
    gec.script("/api/mails/GEC-2/reply", [], default=(400, {}))       # always 400
    gec.script("/api/mails/GEC-3/reply", [Answer(200, delay=1.5)])     # slow once

The default answer of a path is 200 `{}`. `delay` slows every answer down
(an upstream timing out); `stop()` stops listening and cuts the connections
still open, `restart()` listens again on the same port. Loopback only.
"""
import base64
import binascii
import json
import threading
import time
from dataclasses import dataclass

from loopback_server import LoopbackHandler, LoopbackServer, parse_target

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Answer:
    """What the fake answers: a status, a body (dict, list, str or bytes),
    extra headers ((name, value) pairs) and a delay in seconds before it."""
    status: int = 200
    body: object = None
    headers: tuple = ()
    delay: float = 0.0

    def __post_init__(self):
        if self.body is None:
            self.body = {}


OK = Answer(200, {})


def as_answer(answer):
    """An Answer from an Answer or a (status, body) pair."""
    if isinstance(answer, Answer):
        return answer
    status, body = answer
    return Answer(status, body)


@dataclass
class Notification:
    """One request the GEC accepted the credentials of, whatever it answered."""
    method: str
    path: str          # percent-decoded, without the query
    raw_path: str      # as sent on the request line, without the query
    query: list        # decoded (name, value) pairs, in order
    headers: dict      # lower-case name -> value
    body: bytes
    status: int        # what the fake answered
    at: float          # time.monotonic() of arrival

    def json(self):
        return json.loads(self.body)

    @property
    def idempotency_key(self):
        return self.headers.get("idempotency-key")

    @property
    def request_id(self):
        return self.headers.get("x-request-id")


@dataclass
class Refusal:
    """A request answered 401: no, malformed or wrong Basic credentials."""
    method: str
    path: str
    reason: str
    at: float


class _Handler(LoopbackHandler):
    server_version = "FakeGec/1"

    def do_POST(self):
        target = parse_target(self.path)
        body = self.read_request_body()
        answer = self.owner._handle(self.command, target, self.headers, body)
        if answer.delay:
            time.sleep(answer.delay)
        self.send(answer.status, answer.body, headers=list(answer.headers))

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def read_request_body(self):
        """The body, sent with Content-Length or chunked."""
        if "chunked" not in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_body()
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()


class FakeGec(LoopbackServer):
    """The fake GEC API; `url` ends without a slash."""

    handler_class = _Handler
    thread_name = "fake-gec"
    quiet_errors = (OSError,)   # stop() cuts connections mid-request

    def __init__(self, username, password, host="127.0.0.1", port=0):
        if host not in LOOPBACK:
            raise ValueError("the fake GEC listens on the loopback interface only")
        self.username = username
        self.password = password
        self.delay = 0.0
        self.notifications = []
        self.refused = []
        # path -> (answers left, default)
        self._scripts = {}
        self._lock = threading.Lock()
        super().__init__(host, port)

    # -- behaviour ------------------------------------------------------------

    def script(self, path, answers, default=OK):
        """The next requests to `path` (percent-decoded, without the query)
        get `answers` in order, then `default`; each an Answer or a
        (status, JSON body) pair."""
        with self._lock:
            self._scripts[path] = ([as_answer(a) for a in answers], as_answer(default))

    def restart(self):
        """Listens again on the same port after stop()."""
        if not self.is_up:
            self._serve(self.port)

    # -- what was received ----------------------------------------------------

    def notifications_to(self, path):
        """Accepted requests to `path` (percent-decoded), in arrival order."""
        with self._lock:
            return [n for n in self.notifications if n.path == path]

    def notifications_with_key(self, key):
        """Accepted requests carrying that Idempotency-Key, in arrival order."""
        with self._lock:
            return [n for n in self.notifications if n.idempotency_key == key]

    def all_notifications(self):
        with self._lock:
            return list(self.notifications)

    def refusals(self):
        with self._lock:
            return list(self.refused)

    # -- used by the handler threads ------------------------------------------

    def _credentials_problem(self, authorization):
        """Why the Authorization header is refused, None when it is right."""
        if not authorization:
            return "missing credentials"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic" or not token:
            return "not Basic credentials"
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return "malformed Basic credentials"
        username, colon, password = decoded.partition(":")
        if not colon:
            return "malformed Basic credentials"
        if (username, password) != (self.username, self.password):
            return "wrong credentials"
        return None

    def _handle(self, method, target, headers, body):
        now = time.monotonic()
        problem = self._credentials_problem(headers.get("Authorization"))
        with self._lock:
            if problem is not None:
                self.refused.append(Refusal(method, target.path, problem, now))
                return Answer(401, {"error": "unauthorized"},
                              headers=(("WWW-Authenticate", 'Basic realm="gec"'),))
            answers, default = self._scripts.get(target.path, ([], OK))
            answer = answers.pop(0) if answers else default
            if self.delay and not answer.delay:
                answer = Answer(answer.status, answer.body, answer.headers, self.delay)
            self.notifications.append(Notification(
                method=method, path=target.path, raw_path=target.raw_path, query=target.query,
                headers={k.lower(): v for k, v in headers.items()}, body=body,
                status=answer.status, at=now))
        return answer
