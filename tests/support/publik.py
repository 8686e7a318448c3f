"""The Publik signature (w.c.s. and Passerelle), signer and verifier.

Written from the protocol description (docs/security.md), independently of
relais's C++, so that integration tests check relais against a second
implementation rather than against itself:

- the query string carries ``orig=...``; ``algo``, ``timestamp`` (UTC,
  ``%Y-%m-%dT%H:%M:%SZ``) and ``nonce`` are appended in that order,
  url-encoded, joined with ``&``;
- ``signature = base64(HMAC-algo(key, query so far))``, url-quoted and
  appended last as ``&signature=``;
- a verifier recomputes the HMAC over the raw query up to ``&signature=``,
  refuses a timestamp more than 30 s away from now and a nonce already seen.
"""
import base64
import datetime
import hashlib
import hmac
import secrets
import urllib.parse

ALGORITHMS = ("sha1", "sha224", "sha256", "sha384", "sha512")
WINDOW = datetime.timedelta(seconds=30)
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _mac(key, message, algo):
    if isinstance(key, str):
        key = key.encode("utf-8")
    return hmac.new(key, message.encode("ascii"), getattr(hashlib, algo)).digest()


def sign_query(query, key, algo="sha256", timestamp=None, nonce=None):
    """Signs a query string (without '?'); returns the signed query string.
    `timestamp` is a naive UTC datetime (default: now), `nonce` a string
    (default: 128 random bits in hex)."""
    if algo not in ALGORITHMS:
        raise ValueError("unsupported algorithm")
    if timestamp is None:
        timestamp = utcnow()
    if nonce is None:
        nonce = secrets.token_hex(16)
    appended = urllib.parse.urlencode(
        [("algo", algo), ("timestamp", timestamp.strftime(TIMESTAMP_FORMAT)), ("nonce", nonce)])
    signed = f"{query}&{appended}" if query else appended
    signature = base64.b64encode(_mac(key, signed, algo)).decode("ascii")
    return signed + "&signature=" + urllib.parse.quote(signature)


def sign_url(url, key, orig=None, algo="sha256", timestamp=None, nonce=None):
    """Signs the query of `url`; adds `orig=<orig>` first when given."""
    parts = urllib.parse.urlsplit(url)
    query = parts.query
    if orig is not None:
        extra = urllib.parse.urlencode([("orig", orig)])
        query = f"{query}&{extra}" if query else extra
    query = sign_query(query, key, algo, timestamp, nonce)
    return urllib.parse.urlunsplit(parts._replace(query=query))


class SignatureError(Exception):
    """A refused signature; `err_class` is relais's slug for it."""

    def __init__(self, err_class, reason):
        super().__init__(f"{err_class}: {reason}")
        self.err_class = err_class
        self.reason = reason


class NonceMemory:
    """Nonces seen recently, each forgotten when its timestamp expires."""

    def __init__(self):
        self._until = {}

    def use(self, nonce, until, now):
        for seen, expiry in list(self._until.items()):
            if expiry <= now:
                del self._until[seen]
        if nonce in self._until:
            return False
        self._until[nonce] = until
        return True


def verify_query(query, keys, now=None, nonces=None):
    """Checks a received query string (raw, without '?'). `keys` maps orig to
    key. Returns the orig; raises SignatureError otherwise."""
    if now is None:
        now = utcnow()
    marker = "&signature="
    cut = query.find(marker)
    if cut < 0:
        raise SignatureError("invalid-signature", "missing signature")
    signed, received = query[:cut], query[cut + len(marker):]
    if "&" in received:
        raise SignatureError("invalid-signature", "signature is not the last parameter")
    fields = urllib.parse.parse_qs(signed, keep_blank_values=True)
    values = {}
    for name in ("orig", "algo", "timestamp", "nonce"):
        found = fields.get(name, [])
        if len(found) != 1 or not found[0]:
            raise SignatureError("invalid-signature", f"missing or repeated {name}")
        values[name] = found[0]
    if "signature" in fields:
        raise SignatureError("invalid-signature", "signature given more than once")
    if values["orig"] not in keys:
        raise SignatureError("invalid-credentials", "unknown orig")
    if values["algo"] not in ALGORITHMS:
        raise SignatureError("invalid-signature", "unknown algorithm")
    try:
        timestamp = datetime.datetime.strptime(values["timestamp"], TIMESTAMP_FORMAT)
        signature = base64.b64decode(urllib.parse.unquote(received), validate=True)
    except ValueError:
        raise SignatureError("invalid-signature", "malformed timestamp or signature") from None
    expected = _mac(keys[values["orig"]], signed, values["algo"])
    if not hmac.compare_digest(signature, expected):
        raise SignatureError("invalid-signature", "signature mismatch")
    if abs(now - timestamp) > WINDOW:
        raise SignatureError("expired-signature", "timestamp out of the 30 s window")
    if nonces is not None and not nonces.use(
            (values["orig"], values["nonce"]), timestamp + WINDOW, now):
        raise SignatureError("replayed-nonce", "nonce already used")
    return values["orig"]


def verify_url(url, keys, now=None, nonces=None):
    return verify_query(urllib.parse.urlsplit(url).query, keys, now, nonces)
