"""`relais sign` against tests/support/publik.py, an independent
implementation of the Publik signature (no server needed)."""
import datetime
import os
import subprocess
import tempfile
import unittest

import publik

RELAIS_BIN = os.environ.get("RELAIS_BIN", "relais")

KEY = "wcs-secret-key"
NONCE = "0123456789abcdef0123456789abcdef"
WHEN = datetime.datetime(2024, 3, 1, 10, 20, 30)


def relais_sign(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([RELAIS_BIN, "sign", *args], capture_output=True, text=True,
                          env=full_env, timeout=30)


class TestPublikModule(unittest.TestCase):
    def test_known_vector(self):
        # The value w.c.s.'s api_utils.sign_query gives for these inputs.
        self.assertEqual(
            publik.sign_query("orig=wcs.example.org&name=Jean", KEY, timestamp=WHEN, nonce=NONCE),
            "orig=wcs.example.org&name=Jean&algo=sha256&timestamp=2024-03-01T10%3A20%3A30Z"
            "&nonce=0123456789abcdef0123456789abcdef"
            "&signature=TjimTlMn/VlurCQLpga3ikkJUKlP%2BhTNTS6W4lPokgY%3D")

    def test_verifier_refuses_what_it_should(self):
        url = publik.sign_url("http://h/p?q=1", KEY, orig="o", timestamp=WHEN, nonce=NONCE)
        keys = {"o": KEY}
        nonces = publik.NonceMemory()
        self.assertEqual(publik.verify_url(url, keys, now=WHEN, nonces=nonces), "o")
        cases = [
            (url, dict(nonces=nonces), "replayed-nonce"),
            (url, dict(now=WHEN + datetime.timedelta(seconds=31)), "expired-signature"),
            (url, dict(now=WHEN - datetime.timedelta(seconds=31)), "expired-signature"),
            (url.replace("q=1", "q=2"), {}, "invalid-signature"),
            (url + "&x=1", {}, "invalid-signature"),
            (url, dict(keys={"o": "other"}), "invalid-signature"),
            (url, dict(keys={"p": KEY}), "invalid-credentials"),
        ]
        for candidate, options, err_class in cases:
            options.setdefault("now", WHEN)
            with self.subTest(err_class=err_class), self.assertRaises(publik.SignatureError) as e:
                publik.verify_url(candidate, options.pop("keys", keys), **options)
            self.assertEqual(e.exception.err_class, err_class)


class TestSignCommand(unittest.TestCase):
    def test_output_verified_by_publik(self):
        for algo in publik.ALGORITHMS:
            with self.subTest(algo=algo):
                r = relais_sign("--orig", "wcs.example.org", "--key", KEY, "--algo", algo,
                                "https://relais.example/test-echo/echo/echo?q=rue+de+la+Paix")
                self.assertEqual(r.returncode, 0, r.stderr)
                url = r.stdout.strip()
                self.assertIn(f"&algo={algo}&", url)
                self.assertEqual(publik.verify_url(url, {"wcs.example.org": KEY},
                                                   nonces=publik.NonceMemory()),
                                 "wcs.example.org")

    def test_reproduced_signature_equals_publik(self):
        url = "https://relais.example/rest/x/search?name=Jean#frag"
        r = relais_sign("--orig", "wcs.example.org", "--key", KEY, "--timestamp",
                        "2024-03-01T10:20:30Z", "--nonce", NONCE, url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, publik.sign_url(url, KEY, orig="wcs.example.org",
                                                   timestamp=WHEN, nonce=NONCE) + "\n")

    def test_orig_already_in_url_is_kept(self):
        r = relais_sign("--orig", "o", "--key", KEY, "--timestamp", "2024-03-01T10:20:30Z",
                        "--nonce", NONCE, "http://h/p?orig=o&q=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), publik.sign_url("http://h/p?orig=o&q=1", KEY,
                                                           timestamp=WHEN, nonce=NONCE))
        r = relais_sign("--orig", "o", "--key", KEY, "http://h/p?orig=other")
        self.assertEqual(r.returncode, 2)

    def test_key_from_file_and_environment(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "key")
            with open(path, "w", encoding="utf-8") as f:
                f.write(KEY + "\n")
            for args, env in ((["--key-file", path], None),
                              (["--key-env", "RELAIS_TEST_KEY"], {"RELAIS_TEST_KEY": KEY})):
                with self.subTest(args=args[0]):
                    r = relais_sign("--orig", "o", *args, "http://h/p", env=env)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(publik.verify_url(r.stdout.strip(), {"o": KEY}), "o")

    def test_usage_errors_never_print_the_key(self):
        canary = "canary-key-4f1d"
        cases = [
            (["--orig", "o", "http://h/p"], 2),
            (["--orig", "o", "--key", canary, "--key-env", "X", "http://h/p"], 2),
            (["--orig", "o", "--key", canary], 2),
            (["--key", canary, "http://h/p"], 2),
            (["--orig", "o", "--key", canary, "--algo", "md5", "http://h/p"], 2),
            (["--orig", "o", "--key", canary, "--timestamp", "yesterday", "http://h/p"], 2),
            # Would wrap around to a time near now once converted.
            (["--orig", "o", "--key", canary, "--timestamp", "2611-06-27T16:37:49Z",
              "http://h/p"], 2),
            (["--orig", "o", "--key", canary, "http://h/p?signature=x"], 2),
            (["--orig", "o", "--key-env", "RELAIS_TEST_UNSET_VARIABLE", "http://h/p"], 1),
            (["--orig", "o", "--key-file", "/nonexistent/key", "http://h/p"], 1),
            # A key given where no argument is expected, and a second URL
            # (its query may hold personal data): neither is quoted.
            (["--orig", "o", "--key-env", "K", "http://h/p?nom=Dupont", canary], 2),
            (["--orig", "o", "--key", "k", "http://h/p", f"http://h/q?{canary}"], 2),
            (["--orig", "o", "--key", "k", f"-{canary}", "http://h/p"], 2),
            # Nonces relais and w.c.s. would refuse.
            (["--orig", "o", "--key", canary, "--nonce=", "http://h/p"], 2),
            (["--orig", "o", "--key", canary, "--nonce", "n" * 129, "http://h/p"], 2),
        ]
        for args, code in cases:
            with self.subTest(args=args):
                r = relais_sign(*args)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertEqual(r.stdout, "")
                self.assertTrue(r.stderr.startswith("relais sign: "), r.stderr)
                self.assertNotIn(canary, r.stderr)

    def test_help(self):
        r = relais_sign("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--key-file", r.stdout)
        self.assertIn("ps", r.stdout)


if __name__ == "__main__":
    unittest.main()
