"""The `franceconnect` connector kind through the real relais binary,
against a real OpenID provider (npm oidc-provider, tests/support/oidc,
configured like FranceConnect): a whole login driven by a browser that
follows redirects with cookies, the hand-over of the identity to the GRU
through a Publik-signed call (tests/support/publik.py) exactly once and only
with the login's binding, logout, and the bad paths: forged and replayed
states, a callback from another browser, a replayed authorization code, ID
tokens expired, for another audience, with another nonce, an insufficient
acr or a broken signature, and the provider down. Each is an exact error and releases
no identity; a canary first name never reaches anything relais writes.

relais's callback URL is registered at a port where nothing listens
(REDIRECT_BASE): the browser stops there, and the test sends it on to
relais's real port, which is known only once relais runs."""
import json
import unittest
import urllib.parse

import oidc_peer
import publik
from oidc_peer import Browser, OidcProvider, query_of
from relais_harness import PLUGIN_DIR, Workspace, enter, start_relais, written_bytes

FAMILY = "etat-civil-citoyennete"
CLIENT_ID = "relais-integration"
CLIENT_SECRET = "fc-integration-secret-7d1e9a0c44b2f6e8"
GRU_ORIG = "gru.example.org"
GRU_KEY = "fc-integration-publik-key"
CANARY = "Canaryfcprenom"
CITIZEN = {"sub": "citizen-sub-0001", "given_name": CANARY, "family_name": "Dupont",
           "birthdate": "1980-05-17", "gender": "female", "birthplace": "75107",
           "birthcountry": "99100", "email": "citoyenne@example.org",
           "preferred_username": "Martin", "address": {"country": "France"}}
REDIRECT_BASE = "http://127.0.0.1:9/franceconnect/fc"
NEXT = "https://gru.example.org/demarches/carte/?step=2"


def write_workspace(ws, issuer, client_auth):
    ws.write_config(json.dumps({
        "server": {"listen": "127.0.0.1:0", "threads": 2},
        "logging": {"level": "debug"},
        "paths": {"connectors": "./connectors", "plugins": PLUGIN_DIR, "data": "./var"},
        "clients": {"gru": {"publik": {"orig": GRU_ORIG, "key": "${env:RELAIS_TEST_GRU_KEY}"},
                            "families": [FAMILY], "grants": {"fc": ["identity"]}}},
    }, indent=1))
    ws.write_connector("fc.yaml", json.dumps({
        "slug": "fc", "kind": "franceconnect", "family": FAMILY,
        "provider": {"discovery": issuer, "timeout": "5s", "connect_timeout": "1s"},
        "client_id": CLIENT_ID, "client_secret": "${env:RELAIS_TEST_FC_SECRET}",
        "client_auth": client_auth,
        "redirect_uri": REDIRECT_BASE + "/callback",
        "post_logout_redirect_uri": REDIRECT_BASE + "/logout",
        "return_urls": ["https://gru.example.org/"],
        "endpoints": {"login": {}, "callback": {}, "identity": {}, "logout": {}},
    }, indent=1))


class FranceconnectCase(unittest.TestCase):
    CLIENT_AUTH = "client_secret_post"

    def setUp(self):
        # `make test` installs them (tools/install-deps.sh): a missing
        # provider is a broken setup, not a reason to skip the proof.
        self.assertTrue(oidc_peer.available(),
                        "node or tests/support/oidc/node_modules missing: run "
                        "tools/install-deps.sh (npm ci --prefix tests/support/oidc)")
        self.ws = enter(self.addCleanup, Workspace())
        self.provider = enter(self.addCleanup, OidcProvider(CLIENT_ID, CLIENT_SECRET, CITIZEN,
                                                            client_auth=self.CLIENT_AUTH))
        write_workspace(self.ws, self.provider.issuer, self.CLIENT_AUTH)
        self.relais = start_relais(self.addCleanup, self.ws, env={
            "RELAIS_TEST_GRU_KEY": GRU_KEY, "RELAIS_TEST_FC_SECRET": CLIENT_SECRET})
        self.base = f"http://127.0.0.1:{self.relais.port}/franceconnect/fc"
        self.browser = Browser()

    def at_relais(self, url):
        """`url` (under REDIRECT_BASE) as the browser reaches relais."""
        self.assertTrue(url.startswith(REDIRECT_BASE), url)
        return self.base + url[len(REDIRECT_BASE):]

    def login(self, next_url=NEXT, binding=None):
        """Login up to the provider's redirect to the callback; returns
        (callback URL at relais, state)."""
        query = {"next": next_url}
        if binding is not None:
            query["binding"] = binding
        status, headers, body = self.browser.get(
            self.base + "/login?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 302, body)
        self.assertEqual(headers["Cache-Control"], "no-store")
        cookie = headers["Set-Cookie"]
        self.assertTrue(cookie.startswith("relais_fc_fc="), cookie)
        self.assertEqual({a.strip() for a in cookie.split(";")[1:]} - {"Max-Age=600"},
                         {"Path=/", "HttpOnly", "SameSite=Lax"})
        authorize = headers["Location"]
        self.assertTrue(authorize.startswith(self.provider.issuer + "/"), authorize)
        params = query_of(authorize)
        self.assertEqual(params["response_type"], "code")
        self.assertEqual(params["client_id"], CLIENT_ID)
        self.assertEqual(params["redirect_uri"], REDIRECT_BASE + "/callback")
        self.assertEqual(params["acr_values"], "eidas1")
        self.assertIn("given_name", params["scope"].split())
        self.assertGreaterEqual(len(params["state"]), 22)
        self.assertGreaterEqual(len(params["nonce"]), 22)
        self.nonce = params["nonce"]
        back = self.browser.follow(authorize, until=REDIRECT_BASE + "/callback")
        self.assertEqual(query_of(back)["state"], params["state"])
        return self.at_relais(back), params["state"]

    def callback(self, url):
        return self.browser.get(url)

    def redeem(self, code, binding=None):
        path = "/franceconnect/fc/identity"
        query = {"code": code, "orig": GRU_ORIG}
        if binding is not None:
            query["binding"] = binding
        signed = publik.sign_query(urllib.parse.urlencode(query), GRU_KEY)
        return self.relais.get(path + "?" + signed)

    def assert_error(self, status, body, expected_status, err_class):
        self.assertEqual(status, expected_status, body)
        answer = json.loads(body)
        self.assertEqual((answer["err"], answer["err_class"], answer["data"]),
                         (1, err_class, None))
        return answer

    def assert_browser_error(self, answer, expected_status, err_class):
        """An error answered to the browser: never cached either."""
        status, headers, body = answer
        self.assertEqual(headers["Cache-Control"], "no-store")
        return self.assert_error(status, body, expected_status, err_class)

    def assert_no_handover(self, status, headers):
        """A failed callback: no redirect carrying a code."""
        self.assertNotIn("fc_code", headers.get("Location") or "")


class FranceconnectTest(FranceconnectCase):
    def full_login(self, binding=None):
        callback, _ = self.login(binding=binding)
        status, headers, body = self.callback(callback)
        self.assertEqual(status, 302, body)
        back = headers["Location"]
        self.assertTrue(back.startswith(NEXT + "&fc_code="), back)
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertIn("Max-Age=0", headers["Set-Cookie"])
        return callback, query_of(back)["fc_code"]

    def test_the_identity_needs_the_logins_binding(self):
        binding = "gru-session.Hash_0~9-a"
        for wrong in (None, "another-session"):
            with self.subTest(binding=wrong):
                _, code = self.full_login(binding=binding)
                refused = self.redeem(code, binding=wrong)
                self.assert_error(refused.status, refused.body, 404, "unknown-code")
                # The refusal spent the code.
                again = self.redeem(code, binding=binding)
                self.assert_error(again.status, again.body, 404, "unknown-code")
        _, code = self.full_login(binding=binding)
        good = self.redeem(code, binding=binding)
        self.assertEqual(good.status, 200, good)
        self.assertEqual(good.json()["data"]["sub"], CITIZEN["sub"])

    def test_a_binding_that_is_not_a_token_is_refused(self):
        for binding in ("a b", "x" * 129, "a/b"):
            with self.subTest(binding=binding):
                answer = self.browser.get(self.base + "/login?" + urllib.parse.urlencode(
                    {"next": NEXT, "binding": binding}))
                self.assert_browser_error(answer, 400, "invalid-parameter")

    def test_callback_from_another_browser_is_refused(self):
        callback, _ = self.login()
        status, headers, body = Browser().get(callback)
        self.assert_browser_error((status, headers, body), 400, "invalid-state")
        self.assert_no_handover(status, headers)
        # The flow is spent: the browser that started it must start again.
        status, headers, body = self.callback(callback)
        self.assert_browser_error((status, headers, body), 400, "invalid-state")
        self.assert_no_handover(status, headers)

    def test_login_hands_the_identity_over_once(self):
        _, code = self.full_login()
        first = self.redeem(code)
        self.assertEqual(first.status, 200, first)
        data = first.json()["data"]
        expected = {k: v for k, v in CITIZEN.items() if k != "address"}
        self.assertEqual({k: v for k, v in data.items() if k != "id_token"}, expected)
        self.assertEqual(data["id_token"].count("."), 2)
        self.assertEqual(first.header("Cache-Control"), "no-store")
        second = self.redeem(code)
        self.assert_error(second.status, second.body, 404, "unknown-code")

    def test_identity_needs_the_gru_credentials(self):
        _, code = self.full_login()
        anonymous = self.relais.get("/franceconnect/fc/identity?code=" + code)
        self.assert_error(anonymous.status, anonymous.body, 401, "missing-credentials")
        # The refused call did not consume the code.
        self.assertEqual(self.redeem(code).status, 200)

    def test_unknown_code_is_refused(self):
        r = self.redeem("AAAAAAAAAAAAAAAAAAAAAA")
        self.assert_error(r.status, r.body, 404, "unknown-code")

    def test_replayed_callback_is_refused(self):
        callback, code = self.full_login()
        status, headers, body = self.callback(callback)
        self.assert_error(status, body, 400, "invalid-state")
        self.assert_no_handover(status, headers)
        self.assertEqual(self.redeem(code).status, 200)

    def test_forged_or_missing_state_is_refused(self):
        callback, state = self.login()
        forged = callback.replace("state=" + state, "state=forged-state-value")
        for url in (forged, self.base + "/callback?code=whatever"):
            status, headers, body = self.callback(url)
            answer = self.assert_browser_error((status, headers, body), 400, "invalid-state")
            self.assertNotIn("forged", answer["err_desc"])
            self.assert_no_handover(status, headers)

    def test_replayed_code_is_refused_by_the_provider(self):
        first_callback, _ = self.login()
        first_code = query_of(first_callback)["code"]
        self.full_login_from(first_callback)
        _, second_state = self.login()
        replay = self.base + "/callback?" + urllib.parse.urlencode(
            {"code": first_code, "state": second_state})
        status, headers, body = self.callback(replay)
        answer = self.assert_error(status, body, 502, "identity-rejected")
        self.assertIn("invalid_grant", answer["err_desc"])
        self.assert_no_handover(status, headers)

    def full_login_from(self, callback):
        status, headers, body = self.callback(callback)
        self.assertEqual(status, 302, body)
        self.assertIn("fc_code=", headers["Location"])

    def test_bad_id_tokens_are_refused(self):
        for mode, words in (("expired", "expired"), ("audience", "wrong audience"),
                            ("nonce", "wrong nonce"), ("acr", "insufficient acr"),
                            ("signature", "bad signature")):
            with self.subTest(mode=mode):
                callback, _ = self.login()
                self.provider.tamper_next_token(mode)
                status, headers, body = self.callback(callback)
                answer = self.assert_error(status, body, 502, "identity-rejected")
                self.assertEqual(answer["err_desc"], "the ID token was refused: " + words)
                self.assert_no_handover(status, headers)

    def test_provider_error_goes_back_to_the_gru(self):
        _, state = self.login()
        status, headers, _ = self.callback(self.base + "/callback?" + urllib.parse.urlencode(
            {"state": state, "error": "access_denied", "error_description": CANARY}))
        self.assertEqual(status, 302)
        self.assertEqual(headers["Location"], NEXT + "&fc_error=access_denied")

    def test_next_outside_return_urls_is_refused(self):
        for next_url, err_class in (("https://gru.example.org.evil.net/x", "invalid-parameter"),
                                    ("https://evil.example/", "invalid-parameter"),
                                    ("", "missing-parameter")):
            with self.subTest(next=next_url):
                status, _, body = self.browser.get(
                    self.base + "/login?" + urllib.parse.urlencode({"next": next_url}))
                answer = self.assert_error(status, body, 400, err_class)
                self.assertNotIn("evil", answer["err_desc"])

    def test_logout_goes_through_the_provider_and_back(self):
        status, headers, body = self.browser.get(self.base + "/logout?" + urllib.parse.urlencode(
            {"next": NEXT, "id_token_hint": "hint.from.gru"}))
        self.assertEqual(status, 302, body)
        end_session = headers["Location"]
        self.assertTrue(end_session.startswith(self.provider.issuer + "/session/end"),
                        end_session)
        params = query_of(end_session)
        self.assertEqual(params["post_logout_redirect_uri"], REDIRECT_BASE + "/logout")
        self.assertEqual(params["id_token_hint"], "hint.from.gru")
        back = self.base + "/logout?state=" + urllib.parse.quote(params["state"])
        status, headers, _ = self.browser.get(back)
        self.assertEqual((status, headers["Location"]), (302, NEXT))
        status, _, body = self.browser.get(back)
        self.assert_error(status, body, 400, "invalid-state")

    def test_canary_identity_is_never_written(self):
        callback, code = self.full_login()
        nonce = self.nonce
        redeemed = self.redeem(code)
        self.assertEqual(redeemed.status, 200)
        id_token = redeemed.json()["data"]["id_token"]
        failed, state = self.login()
        self.provider.tamper_next_token("nonce")
        self.callback(failed)
        self.relais.stop()
        written = written_bytes(self.ws)
        secrets_of_the_flow = (CANARY, CITIZEN["sub"], CITIZEN["email"], code, state,
                               query_of(callback)["code"], "demarches/carte", CLIENT_SECRET,
                               nonce, id_token, id_token.split(".")[2])
        for value in secrets_of_the_flow:
            self.assertNotIn(value.encode(), written, value)


class FranceconnectBasicAuthTest(FranceconnectCase):
    """The token endpoint authenticates relais with HTTP Basic only."""
    CLIENT_AUTH = "client_secret_basic"

    def test_login_with_client_secret_basic(self):
        callback, _ = self.login()
        status, headers, body = self.callback(callback)
        self.assertEqual(status, 302, body)
        code = query_of(headers["Location"])["fc_code"]
        answer = self.redeem(code)
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.json()["data"]["given_name"], CANARY)


class FranceconnectProviderDownTest(FranceconnectCase):
    def test_callback_with_the_provider_down(self):
        callback, _ = self.login()
        self.provider.stop()
        status, headers, body = self.callback(callback)
        answer = self.assert_browser_error((status, headers, body), 502, "upstream-unreachable")
        self.assertEqual(answer["err_desc"],
                         "the identity provider's token endpoint is unreachable")
        self.assert_no_handover(status, headers)
        status, _, body = self.callback(callback)
        self.assert_error(status, body, 400, "invalid-state")

    def test_login_with_the_provider_down(self):
        self.provider.stop()
        status, headers, body = self.browser.get(
            self.base + "/login?" + urllib.parse.urlencode({"next": NEXT}))
        self.assert_error(status, body, 502, "upstream-unreachable")
        self.assertIsNone(headers.get("Location"))


if __name__ == "__main__":
    unittest.main()
