"""`relais validate` and `relais schema`, run as a user would, and `relais
serve` refusing the same bad configurations with the same errors.

Configurations live in a temporary workspace; relais runs with the
workspace as working directory, so files are named relative to it in
errors. Connectors use the test-only kind `test-config` (built into
$RELAIS_TEST_PLUGIN_DIR from tests/fixtures/plugins).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import textwrap
import unittest

from relais_harness import PLUGIN_DIR, RELAIS_BIN, SOURCE_DIR, TEST_PLUGIN_DIR, Workspace

with open(os.path.join(SOURCE_DIR, "src", "plugin", "plugin_api.hpp"), encoding="utf-8") as header:
    API_VERSION = re.search(r"#define RELAIS_PLUGIN_API_VERSION (\d+)", header.read()).group(1)

CANARY = "canary-secret-5b1e0d"

FAMILIES = ("fiscalite, travail-social, sante, transports, etat-civil-citoyennete, elus, "
            "scolaire-periscolaire, sport-socioculturel, economie-urbanisme, polices-voirie, "
            "reference")

CONNECTOR = """\
slug: alpha
kind: test-config
family: reference
endpoints:
  search: {personal_data: false}
"""


def relais_yaml(extra=""):
    """relais.yaml with `extra` (dedented) from line 5 on."""
    return ("paths:\n"
            "  connectors: connectors\n"
            "  data: var\n"
            f"  plugins: {TEST_PLUGIN_DIR}\n") + textwrap.dedent(extra)


def free_port():
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tls_files(folder):
    """cert.pem with its key.pem, and other.pem, a key of another pair."""
    os.makedirs(folder, exist_ok=True)
    cert, key, other = (os.path.join(folder, name) for name in ("cert.pem", "key.pem",
                                                                 "other.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=relais-test"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", other],
                   check=True, capture_output=True)


class BadConfigs:
    """Bad configurations shared by `validate` and `serve`: each writes its
    files into self.ws and returns the error lines expected on stderr. The
    `server` section comes last (listening on self.listen), so that it
    moves no line of the rest."""

    listen = "127.0.0.1:0"

    def write_config_with_server(self, extra="", server=""):
        self.ws.write_config(relais_yaml(extra) + "server:\n"
                             + textwrap.indent(textwrap.dedent(server), "  ")
                             + f'  listen: "{self.listen}"\n')

    def invalid_yaml(self):
        self.ws.write_config("server:\n  listen: [127.0.0.1\nlogging: {}\n")
        return ["relais.yaml:3:8: end of sequence flow not found"]

    def unknown_kind(self):
        self.write_config_with_server()
        self.ws.write_connector("x.yaml", CONNECTOR.replace("test-config", "soapx"))
        looked_for = os.path.join(os.path.normpath(TEST_PLUGIN_DIR), "relais_soapx.so")
        return [f"connectors/x.yaml:2:7: no plugin provides kind 'soapx' (looked for {looked_for})"]

    def traversal_kind(self):
        self.write_config_with_server()
        self.ws.write_connector("a.yaml", CONNECTOR.replace("test-config", "../test-config"))
        self.ws.write_connector("b.yaml", CONNECTOR.replace("test-config", "x/../../evil")
                                .replace("alpha", "beta"))
        return [
            "connectors/a.yaml:2:7: kind: expected a string matching ^[a-z][a-z0-9-]{0,31}$",
            "connectors/b.yaml:2:7: kind: expected a string matching ^[a-z][a-z0-9-]{0,31}$",
        ]

    def wrong_api_version(self):
        self.write_config_with_server()
        self.ws.write_connector("x.yaml", CONNECTOR.replace("test-config", "test-wrong-api"))
        module = os.path.join(os.path.realpath(TEST_PLUGIN_DIR), "relais_test_wrong_api.so")
        return [f"connectors/x.yaml:2:7: plugin {module} has API version 9, relais needs {API_VERSION}"]

    def missing_secret_env_var(self):
        self.write_config_with_server("""\
            clients:
              demo:
                apikey: "${env:RELAIS_IT_UNSET}"
            """)
        self.ws.write_connector("alpha.yaml", CONNECTOR)
        return ["relais.yaml:7:13: environment variable 'RELAIS_IT_UNSET' is not set"]

    def tls_key_mismatch(self):
        make_tls_files(os.path.join(self.ws.root, "tls"))
        self.write_config_with_server(server="""\
            tls:
              certificate: tls/cert.pem
              private_key: tls/other.pem
            """)
        self.ws.write_connector("alpha.yaml", CONNECTOR)
        return ["relais.yaml:8:18: server.tls.private_key: does not match server.tls.certificate "
                "(expected the private key of the server certificate, the first of the chain)"]


class ValidateTest(BadConfigs, unittest.TestCase):
    def setUp(self):
        self.ws = Workspace()
        self.addCleanup(self.ws.cleanup)

    def run_relais(self, *args, env=None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_IT_")}
        environment.update(env or {})
        return subprocess.run([RELAIS_BIN, *args], cwd=self.ws.root, env=environment,
                              capture_output=True, text=True, timeout=60)

    def validate(self, env=None):
        return self.run_relais("validate", "--config", self.ws.config, env=env)

    def assert_errors(self, result, lines):
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr.splitlines(), lines)

    def assert_invalid(self, lines):
        """`validate` of the configuration written so far prints `lines`."""
        self.assert_errors(self.validate(), lines)

    def test_good_config(self):
        self.ws.write_config(relais_yaml("""\
            clients:
              wcs:
                publik: {orig: wcs.example.org, key: "${env:RELAIS_IT_KEY}"}
                families: [reference]
                grants: {alpha: "*"}
            """))
        self.ws.write_connector("alpha.yaml", CONNECTOR)
        result = self.validate(env={"RELAIS_IT_KEY": CANARY})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "ok: 1 connectors, 1 clients\n")
        self.assertEqual(result.stderr, "")

    def test_shipped_default_config(self):
        result = self.run_relais("validate", "--config",
                                 os.path.join(SOURCE_DIR, "config", "relais.yaml"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "ok: 9 connectors, 6 clients\n")

    def test_shipped_default_config_is_validated_without_writing_anything(self):
        # Its base-adresse connectors have no id_key: serve creates their key
        # file in the data directory, validate only reads it when it exists.
        for folder in ("config", "connectors"):
            shutil.copytree(os.path.join(SOURCE_DIR, folder),
                            os.path.join(self.ws.root, "shipped", folder))
        config = os.path.join(self.ws.root, "shipped", "config", "relais.yaml")
        data = os.path.join(self.ws.root, "shipped", "var")
        result = self.run_relais("validate", "--config", config)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(data))

        os.makedirs(data, mode=0o700)
        key_file = os.path.join(data, "base-adresse-id.key")
        with open(key_file, "w", encoding="ascii") as f:
            f.write("not a key\n")
        os.chmod(key_file, 0o644)
        result = self.run_relais("validate", "--config", config)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("base-adresse-id.key", result.stderr)
        self.assertEqual(os.listdir(data), ["base-adresse-id.key"])
        with open(key_file, encoding="ascii") as f:
            self.assertEqual(f.read(), "not a key\n")

    def test_the_outbox_key_file_is_checked_as_serve_would(self):
        self.ws.write_config(relais_yaml())
        self.ws.write_connector("alpha.yaml", CONNECTOR)
        os.makedirs(os.path.join(self.ws.data, "outbox"), mode=0o700)
        key_file = os.path.join(self.ws.data, "outbox.key")
        # Databases without their key: serve refuses to start.
        database = os.path.join(self.ws.data, "outbox", "sante.sqlite")
        with open(database, "wb"):
            pass
        result = self.validate()
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("outbox key file " + key_file + " is missing", result.stderr)
        os.remove(database)
        self.assertEqual(self.validate().returncode, 0)
        self.assertFalse(os.path.exists(key_file), "validate creates no key")
        # A key other users may read, or one that is not a key.
        for content, mode in (("A" * 43 + "=\n", 0o644), ("not a key\n", 0o600)):
            with open(key_file, "w", encoding="ascii") as f:
                f.write(content)
            os.chmod(key_file, mode)
            result = self.validate()
            self.assertEqual(result.returncode, 1, (content, result.stdout))
            self.assertIn("outbox.key", result.stderr)
            self.assertNotIn(content.strip(), result.stderr)

    def test_invalid_yaml(self):
        self.assert_invalid(self.invalid_yaml())

    def test_unknown_kind(self):
        self.assert_invalid(self.unknown_kind())

    def test_traversal_kind(self):
        self.assert_invalid(self.traversal_kind())

    def test_wrong_api_version(self):
        self.assert_invalid(self.wrong_api_version())

    def test_missing_secret_env_var(self):
        self.assert_invalid(self.missing_secret_env_var())

    def test_tls_key_that_does_not_match_the_certificate(self):
        self.assert_invalid(self.tls_key_mismatch())

    def test_tls_pair_that_matches(self):
        make_tls_files(os.path.join(self.ws.root, "tls"))
        self.write_config_with_server(server="""\
            tls: {certificate: tls/cert.pem, private_key: tls/key.pem}
            """)
        result = self.validate()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "ok: 0 connectors, 0 clients\n")

    def test_tls_files_missing(self):
        self.write_config_with_server(server="""\
            tls: {certificate: tls/cert.pem, private_key: tls/key.pem}
            """)
        self.assert_errors(self.validate(), [
            "relais.yaml:6:22: server.tls.certificate: expected a readable PEM file "
            "(No such file or directory)",
            "relais.yaml:6:49: server.tls.private_key: expected a readable PEM file "
            "(No such file or directory)",
        ])

    def test_log_file_that_cannot_be_written(self):
        self.ws.write_config(relais_yaml("logging: {file: connectors}\n"))
        self.assert_errors(self.validate(), [
            "relais.yaml:5:17: logging.file: expected a file relais can append to "
            "(Is a directory)"])
        self.ws.write_config(relais_yaml("logging: {file: nowhere/relais.log}\n"))
        self.assert_errors(self.validate(), [
            "relais.yaml:5:17: logging.file: expected a file in an existing directory "
            "(No such file or directory)"])
        self.assertFalse(os.path.exists(os.path.join(self.ws.root, "nowhere")))

    @unittest.skipIf(os.geteuid() == 0, "root may write anywhere")
    def test_log_file_without_permission(self):
        locked = os.path.join(self.ws.root, "locked")
        os.makedirs(locked, mode=0o500)
        self.addCleanup(os.chmod, locked, 0o700)
        self.ws.write_config(relais_yaml("logging: {file: locked/relais.log}\n"))
        self.assert_errors(self.validate(), [
            "relais.yaml:5:17: logging.file: expected a file relais can create, in a writable "
            "directory (Permission denied)"])

    def test_log_file_is_neither_created_nor_truncated(self):
        log = self.ws.write("log/relais.log", "earlier line\n")
        self.ws.write_config(relais_yaml("logging: {file: log/relais.log}\n"))
        result = self.validate()
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(log, encoding="utf-8") as f:
            self.assertEqual(f.read(), "earlier line\n")
        self.ws.write_config(relais_yaml("logging: {file: log/new.log}\n"))
        result = self.validate()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.ws.root, "log", "new.log")))

    def test_zero_timeouts(self):
        self.write_config_with_server(server="""\
            limits: {read_timeout: 0s, idle_timeout: 0ms}
            shutdown_grace: 0s
            """)
        self.assert_errors(self.validate(), [
            "relais.yaml:6:26: server.limits.read_timeout: expected a duration of at least 100ms",
            "relais.yaml:6:44: server.limits.idle_timeout: expected a duration of at least 100ms",
        ])

    def test_every_error_of_every_file(self):
        self.ws.write_config(relais_yaml("""\
            server:
              threads: many
              limits: {body_bytes: 12}
            """))
        self.ws.write_connector("a.yaml", """\
            slug: a
            kind: test-config
            family: etat-civil
            enpoints: {}
            """)
        self.ws.write_connector("b.yml", "slug: [b\n")
        self.assert_errors(self.validate(), [
            "relais.yaml:6:12: server.threads: expected an integer between 0 and 1024, "
            "not a string",
            "relais.yaml:7:24: server.limits.body_bytes: expected an integer >= 1024",
            "connectors/a.yaml:1:1: missing required property 'endpoints'",
            f"connectors/a.yaml:3:9: family: 'etat-civil' is not one of: {FAMILIES}",
            "connectors/a.yaml:4:1: unknown property 'enpoints' (expected one of: slug, kind, "
            "family, description, limits, delivery, callbacks, demands, token, timeout, reject, "
            "throw_int, extra_endpoint, endpoints)",
            "connectors/b.yml:2:1: end of sequence flow not found",
        ])

    def test_secret_never_printed_even_when_its_field_is_wrong(self):
        env = {"RELAIS_IT_SECRET": CANARY}
        self.ws.write("secret.txt", CANARY + "\n")
        self.ws.write_config(relais_yaml("""\
            server:
              listen: "${env:RELAIS_IT_SECRET}"
              threads: "${env:RELAIS_IT_SECRET}"
            clients:
              a:
                apikey: "${env:RELAIS_IT_SECRET}"
                allow_from: ["${file:secret.txt}"]
              b:
                apikey: "${file:secret.txt}"
                basic: {username: "x${env:RELAIS_IT_SECRET}", password: "${env:RELAIS_IT_NOPE}"}
            """))
        self.ws.write_connector("alpha.yaml", CONNECTOR + 'token: "${env:RELAIS_IT_SECRET}"\n'
                                                          "reject: yes\n")
        result = self.validate(env=env)
        self.assert_errors(result, [
            "relais.yaml:6:11: server.listen: expected ADDRESS:PORT with a numeric IP address, "
            "such as 127.0.0.1:8080 or [::1]:8080 (port 0: any free port)",
            "relais.yaml:7:12: server.threads: expected an integer between 0 and 1024, "
            "not a string",
            "relais.yaml:11:18: clients.a.allow_from[0]: expected an address block such as "
            "192.0.2.0/24 or 2001:db8::/32, or an IP address",
            "relais.yaml:13:13: clients.b.apikey: the same API key as client 'a'",
            "relais.yaml:14:61: environment variable 'RELAIS_IT_NOPE' is not set",
            "connectors/alpha.yaml:7:9: rejected as the test asked",
        ])
        self.assertNotIn(CANARY, result.stdout + result.stderr)

    def test_usage(self):
        result = self.run_relais("validate", "--help")
        self.assertEqual(result.returncode, 0)
        self.assertIn("usage: relais validate --config FILE", result.stdout)
        result = self.run_relais("validate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--config FILE is required", result.stderr)


class ServeRefusesBadConfigTest(BadConfigs, unittest.TestCase):
    """`relais serve` on the bad configurations of ValidateTest: exit 1, the
    same error lines, and nothing ever listened on the configured port."""

    def setUp(self):
        self.ws = Workspace()
        self.addCleanup(self.ws.cleanup)
        # Present and private, so that serve logs nothing about it.
        os.makedirs(self.ws.data, mode=0o700)
        self.listen = f"127.0.0.1:{free_port()}"

    def assert_refused(self, lines):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_IT_")}
        result = subprocess.run([RELAIS_BIN, "serve", "--config", self.ws.config],
                                cwd=self.ws.root, env=environment, capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr.splitlines(), lines)
        self.assertNotIn("listening", result.stderr)
        host, port = self.listen.rsplit(":", 1)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=5).close()

    def test_invalid_yaml(self):
        self.assert_refused(self.invalid_yaml())

    def test_unknown_kind(self):
        self.assert_refused(self.unknown_kind())

    def test_traversal_kind(self):
        self.assert_refused(self.traversal_kind())

    def test_wrong_api_version(self):
        self.assert_refused(self.wrong_api_version())

    def test_missing_secret_env_var(self):
        self.assert_refused(self.missing_secret_env_var())

    def test_tls_key_that_does_not_match_the_certificate(self):
        self.assert_refused(self.tls_key_mismatch())


class SchemaTest(unittest.TestCase):
    def run_schema(self, *args):
        return subprocess.run([RELAIS_BIN, "schema", *args], capture_output=True, text=True,
                              timeout=60)

    def test_all_schemas_as_one_json_object(self):
        result = self.run_schema("--plugins", TEST_PLUGIN_DIR)
        self.assertEqual(result.returncode, 0, result.stderr)
        schemas = json.loads(result.stdout)
        self.assertEqual(schemas["relais"]["title"], "relais.yaml")
        self.assertIn("family", schemas["connector"]["definitions"])
        self.assertEqual(schemas["test-config"]["title"], "test-config connector")
        # Modules that cannot be loaded are skipped with a reason.
        self.assertIn(f"has API version 9, relais needs {API_VERSION}", result.stderr)

    def test_one_schema_by_name(self):
        result = self.run_schema("--plugins", TEST_PLUGIN_DIR, "test-config")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("slug", json.loads(result.stdout)["properties"])
        result = self.run_schema("connector")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["title"], "relais connector")

    def test_default_plugins_are_beside_the_executable(self):
        result = self.run_schema()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("rest", json.loads(result.stdout))
        self.assertEqual(os.path.realpath(PLUGIN_DIR),
                         os.path.join(os.path.dirname(os.path.realpath(RELAIS_BIN)), "plugins"))

    def test_unknown_name(self):
        result = self.run_schema("--plugins", TEST_PLUGIN_DIR, "nope")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertIn("relais schema: unknown schema 'nope' (available: relais, connector, ",
                      result.stderr)
        self.assertIn("test-config", result.stderr.split("available:")[1])


if __name__ == "__main__":
    unittest.main()
