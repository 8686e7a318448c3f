"""The OpenID provider of tests/support/oidc (node, oidc-provider) as a
context manager, and a small browser that follows redirects with cookies.

OidcProvider starts `node provider.js` on port 0 and reads the port it
prints; it needs `npm ci --prefix tests/support/oidc` to have been run
(`available()` says whether it was). Browser keeps cookies per host and
stops following redirects at a URL prefix, so that a test sees where relais
sends the citizen back."""
import http.cookiejar
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

OIDC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oidc")


def available():
    """Whether node and the provider's packages are installed."""
    return shutil.which("node") is not None and os.path.isdir(
        os.path.join(OIDC_DIR, "node_modules", "oidc-provider"))


class OidcProvider:
    """`node provider.js`, configured through its environment."""

    def __init__(self, client_id, client_secret, citizen, client_auth="client_secret_post",
                 log_path=None):
        self.env = dict(os.environ, OIDC_CLIENT_ID=client_id, OIDC_CLIENT_SECRET=client_secret,
                        OIDC_CLIENT_AUTH=client_auth, OIDC_CITIZEN=json.dumps(citizen))
        self.log_path = log_path or os.devnull
        self.proc = None
        self.port = None

    @property
    def issuer(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["node", "provider.js"], cwd=OIDC_DIR, env=self.env,
                                     stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "listening":
                self.port = int(event["port"])
                print(f"oidc-provider listening on port {self.port}")
                return self
        self.stop()
        raise RuntimeError("oidc-provider did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc.stdout.close()
            self._log.close()
        self.proc = None

    def tamper_next_token(self, mode):
        """The next token answer carries a bad ID token (see provider.js)."""
        with urllib.request.urlopen(f"{self.issuer}/_test/tamper?mode={mode}", timeout=10):
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """GETs with a cookie jar, one hop at a time or following redirects."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            _NoRedirect, urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url):
        """(status, headers, body) of one GET, redirects not followed."""
        try:
            with self.opener.open(url, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            body = e.read()
            e.close()
            return e.code, e.headers, body

    def follow(self, url, until, max_hops=20):
        """Follows redirects from `url` until one points under `until`;
        returns that URL. Fails on any answer that is not a redirect."""
        for _ in range(max_hops):
            status, headers, body = self.get(url)
            if status not in (301, 302, 303, 307, 308):
                raise AssertionError(f"{url} answered {status}: {body[:300]!r}")
            url = urllib.parse.urljoin(url, headers["Location"])
            if url.startswith(until):
                return url
        raise AssertionError("too many redirects")


def query_of(url):
    """The query parameters of `url` as a dict (last value wins)."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
