"""A fake business application receiving relais's asynchronous deliveries
(Python stdlib only).

A threaded HTTP/1.1 server with keep-alive, bound to 127.0.0.1 on port 0.
Every request is recorded (Idempotency-Key, X-Request-ID, method, path,
query, headers, body). What it answers is chosen by the longest path prefix
found in `rules` (else `default`), a Behaviour:

- `delay`: seconds to wait before answering;
- `status`: answer this status every time (e.g. 400); 2xx by default;
- `fail_rate` / `fail_status`: fail that share of requests with that status
  (drawn from a seeded random generator, so a run is reproducible);
- `fail_first`: fail the first n requests of each idempotency key;
- `retry_after`: the Retry-After value sent with a 429 or 503;
- `echo_body`: answers quote the request body and target (as careless
  business applications do), so that tests can check relais never keeps them.

A 2xx answer is `{"id": "REF-<n>"}`, n counting distinct idempotency keys:
a redelivery with the same key gets the same reference back, as a business
application honouring the key would answer.

`go_down()` stops listening and cuts open connections; `come_up()` listens
again on the same port.

    with PushUpstream() as app:
        app.default = Behaviour(fail_rate=0.2, seed=7, delay=0.003)
        ... app.url ...
        app.delivered_keys()
"""
import json
import random
import threading
import time
from dataclasses import dataclass, field

from loopback_server import LoopbackHandler, LoopbackServer, parse_target


@dataclass
class Behaviour:
    delay: float = 0.0
    status: int = 0
    fail_rate: float = 0.0
    fail_status: int = 503
    fail_first: int = 0
    retry_after: str = None
    echo_body: bool = False
    seed: int = 0
    rng: random.Random = field(default=None, repr=False)

    def __post_init__(self):
        if self.rng is None:
            self.rng = random.Random(self.seed)


@dataclass
class Received:
    """One request as the fake business application received it."""
    method: str
    path: str          # percent-decoded, without the query
    raw_path: str      # as sent on the request line
    query: list        # decoded (name, value) pairs
    headers: dict      # lower-case name -> value
    body: bytes
    idempotency_key: str
    request_id: str
    status: int = 0    # what the fake answered
    at: float = 0.0    # time.monotonic() of arrival

    def json(self):
        return json.loads(self.body)


class _Handler(LoopbackHandler):
    server_version = "PushUpstream/1"

    def do_POST(self):
        app = self.owner
        body = self.read_body()
        target = parse_target(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = Received(
            method=self.command, path=target.path, raw_path=self.path, query=target.query,
            headers=headers, body=body, idempotency_key=headers.get("idempotency-key"),
            request_id=headers.get("x-request-id"), at=time.monotonic())
        status, extra_headers, answer = app._decide(record)
        record.status = status
        app._record(record)
        self.send(status, answer, headers=extra_headers)

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST


class PushUpstream(LoopbackServer):
    """The fake business application, serving in a background thread."""

    handler_class = _Handler
    thread_name = "push-upstream"
    quiet_errors = (OSError,)   # go_down() cuts connections mid-request

    def __init__(self, host="127.0.0.1"):
        self.default = Behaviour()
        self.rules = {}
        self.received = []
        self._references = {}
        self._attempts = {}
        self._lock = threading.Lock()
        super().__init__(host)

    # -- availability ---------------------------------------------------

    def go_down(self):
        """Stops listening (connections are refused) and cuts open ones."""
        self._stop_serving()

    def come_up(self):
        """Listens again, on the same port."""
        if not self.is_up:
            self._serve(self.port)

    # -- what was received ------------------------------------------------

    def requests(self, path_prefix=""):
        with self._lock:
            return [r for r in self.received if r.path.startswith(path_prefix)]

    def delivered(self, path_prefix=""):
        """Requests answered 2xx."""
        return [r for r in self.requests(path_prefix) if 200 <= r.status < 300]

    def delivered_keys(self, path_prefix=""):
        """Distinct idempotency keys answered 2xx at least once."""
        return {r.idempotency_key for r in self.delivered(path_prefix)}

    def duplicates(self, path_prefix=""):
        """2xx answers beyond the first for the same idempotency key (the
        redeliveries the key lets a business application recognise)."""
        delivered = self.delivered(path_prefix)
        return len(delivered) - len({r.idempotency_key for r in delivered})

    def attempts_of(self, key):
        """Every request carrying that idempotency key, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.idempotency_key == key]

    def reference_of(self, key):
        """The reference answered for that key, None if never delivered."""
        with self._lock:
            return self._references.get(key)

    # -- used by the handler threads --------------------------------------

    def _behaviour(self, path):
        best = None
        for prefix in self.rules:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return self.rules[best] if best is not None else self.default

    def _decide(self, record):
        behaviour = self._behaviour(record.path)
        if behaviour.delay:
            time.sleep(behaviour.delay)
        with self._lock:
            key = record.idempotency_key
            self._attempts[key] = self._attempts.get(key, 0) + 1
            nth = self._attempts[key]
            status = behaviour.status
            if not status and nth <= behaviour.fail_first:
                status = behaviour.fail_status
            if not status and behaviour.fail_rate and behaviour.rng.random() < behaviour.fail_rate:
                status = behaviour.fail_status
            if not status or 200 <= status < 300:
                if key not in self._references:
                    self._references[key] = f"REF-{len(self._references) + 1}"
                return status or 200, [], self._echo(behaviour, record,
                                                     {"id": self._references[key]})
        headers = []
        if behaviour.retry_after is not None and status in (429, 503):
            headers.append(("Retry-After", str(behaviour.retry_after)))
        return status, headers, self._echo(behaviour, record, {"error": status})

    @staticmethod
    def _echo(behaviour, record, answer):
        if behaviour.echo_body:
            answer["received"] = record.body.decode("utf-8", "replace")
            answer["target"] = record.raw_path
        return answer

    def _record(self, record):
        with self._lock:
            self.received.append(record)
