"""The OpenID provider of tests/support/oidc (node, oidc-provider) as a
context manager, and a small browser that follows redirects with cookies.

OidcProvider runs `node provider.js` (a node_peer.NodePeer); it needs
`npm ci --prefix tests/support/oidc` to have been run (`available()` says
whether it was). Browser keeps cookies per host and
stops following redirects at a URL prefix, so that a test sees where relais
sends the citizen back."""
import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request

import node_peer


def available():
    """Whether node and the provider's packages are installed."""
    return node_peer.installed("oidc", "oidc-provider")


class OidcProvider(node_peer.NodePeer):
    """`node provider.js`, configured through its environment."""

    def __init__(self, client_id, client_secret, citizen, client_auth="client_secret_post",
                 log_path=None):
        super().__init__("oidc", "provider.js",
                         env={"OIDC_CLIENT_ID": client_id, "OIDC_CLIENT_SECRET": client_secret,
                              "OIDC_CLIENT_AUTH": client_auth,
                              "OIDC_CITIZEN": json.dumps(citizen)},
                         log_path=log_path)

    @property
    def issuer(self):
        return self.url

    def tamper_next_token(self, mode):
        """The next token answer carries a bad ID token (see provider.js)."""
        with urllib.request.urlopen(f"{self.issuer}/_test/tamper?mode={mode}", timeout=10):
            pass


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
