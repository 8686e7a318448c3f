"""Runs the real relais binary for integration tests.

A Workspace is a temporary directory holding relais.yaml, a connectors/
folder and the data directory. RelaisProcess starts `relais serve` on it
(the config should listen on port 0), waits for the `listening` log line to
learn the port, and offers a small HTTP client. Standard output and error go
to files in the workspace so that tests can search everything relais wrote.
A RelaisProcess can be started again after it stopped (or was killed) on the
same workspace: a restart looks for its own `listening` line only.
"""
import http.client
import json
import os
import shutil
import signal as signals
import subprocess
import tempfile
import textwrap
import time

RELAIS_BIN = os.environ.get("RELAIS_BIN", "relais")
PLUGIN_DIR = os.environ.get("RELAIS_PLUGIN_DIR", "")
TEST_PLUGIN_DIR = os.environ.get("RELAIS_TEST_PLUGIN_DIR", "")
SOURCE_DIR = os.environ.get("RELAIS_SOURCE_DIR", "")


class Workspace:
    """A temporary directory with relais.yaml, connectors/ and var/."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="relais-test-")
        self.connectors = os.path.join(self.root, "connectors")
        self.data = os.path.join(self.root, "var")
        os.makedirs(self.connectors)
        self.config = os.path.join(self.root, "relais.yaml")

    def write(self, relative, text):
        """Writes a file (dedented) under the workspace; returns its path."""
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))
        return path

    def write_config(self, text):
        return self.write("relais.yaml", text)

    def write_connector(self, name, text):
        return self.write(os.path.join("connectors", name), text)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class RelaisProcess:
    """`relais serve --config <workspace>/relais.yaml`, started on demand."""

    def __init__(self, workspace, env=None, args=(), log_path=None):
        """`log_path`: the `logging.file` of the configuration, if any (the
        JSON lines are read there instead of on standard error)."""
        self.ws = workspace
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.port = None
        self.stdout_path = os.path.join(workspace.root, "stdout.log")
        self.stderr_path = os.path.join(workspace.root, "stderr.log")
        self.log_path = log_path

    def start(self, timeout=15, while_starting=None):
        """Starts relais and waits for it to listen; `while_starting(proc)`
        is called as soon as the process exists."""
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        started_at = self._log_size()
        self.proc = subprocess.Popen(
            [RELAIS_BIN, "serve", "--config", self.ws.config, *self.args],
            stdout=self._out, stderr=self._err, env=self.env, cwd=self.ws.root)
        if while_starting is not None:
            while_starting(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines(since=started_at):
                if line.get("event") == "listening":
                    self.port = int(line["port"])
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"relais exited with {self.proc.returncode}:\n{self.stderr_text()}")
            time.sleep(0.02)
        self.stop(signals.SIGKILL)
        raise RuntimeError(f"relais did not start listening:\n{self.stderr_text()}")

    def stderr_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _log_size(self):
        try:
            return os.path.getsize(self.log_path or self.stderr_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        """The log (the log file if configured, else stderr) from byte `since`."""
        try:
            with open(self.log_path or self.stderr_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_lines(self, since=0):
        """Every JSON log line written so far (from byte `since`), parsed."""
        lines = []
        for raw in self.log_text(since).splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                pass
        return lines

    def wait_for_log(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_lines():
                if predicate(line):
                    return line
            time.sleep(0.05)
        raise AssertionError("expected log line not written:\n" + self.log_text())

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL, then reaps the process: a crash, nothing flushed."""
        self.stop(signals.SIGKILL)

    def stop(self, sig=signals.SIGTERM, timeout=20):
        """Sends `sig` and waits; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        self._err.close()
        return self.proc.returncode

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection. `body` may be bytes, str or a
        JSON-serialisable object (sent as application/json)."""
        headers = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)


def enter(add_cleanup, context):
    """Enters `context` (a Workspace, a fake server) and has `add_cleanup`
    (a test's addCleanup, or its class's addClassCleanup) exit it; returns
    what entering gave. unittest's enterContext / enterClassContext, which
    only Python 3.11 brings."""
    value = context.__enter__()
    add_cleanup(context.__exit__, None, None, None)
    return value


def write_client_config(workspace, api_key, families, granted, threads=1, log_level=None,
                        extra=""):
    """relais.yaml on port 0 with the shipped plugins and one client,
    `tester`, calling with `api_key`: of `families`, granted every endpoint
    of the connectors `granted`. `extra` is appended (further sections)."""
    workspace.write_config(
        f"server: {{listen: \"127.0.0.1:0\", threads: {threads}}}\n"
        + (f"logging: {{level: {log_level}}}\n" if log_level else "")
        + f"paths: {{connectors: ./connectors, plugins: \"{PLUGIN_DIR}\", data: ./var}}\n"
        "clients:\n"
        "  tester:\n"
        f"    apikey: {api_key}\n"
        f"    families: [{', '.join(families)}]\n"
        "    grants:\n" + "".join(f"      {slug}: \"*\"\n" for slug in granted) + extra)


def start_relais(add_cleanup, workspace, **kwargs):
    """A RelaisProcess (`kwargs` as its own) started on `workspace` and
    stopped by `add_cleanup` (as for enter())."""
    relais = RelaisProcess(workspace, **kwargs)
    add_cleanup(relais.stop)
    relais.start()
    return relais


def poll_until(predicate, timeout, interval=0.02, message="condition not met"):
    """Calls `predicate` until it returns a true value, which is returned;
    fails the test with `message` (called if callable) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(interval)


def peak_memory_kib(pid):
    """VmHWM of `pid`: the most resident memory it ever had."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def memory_bounds_apply():
    """Whether relais's peak memory means anything: not under a sanitizer
    (make sanitize), which holds freed memory back and adds its own."""
    return not os.environ.get("RELAIS_SANITIZE")


def run_relais(*args, timeout=30, env=None):
    """Runs a `relais` subcommand to completion (CompletedProcess, text)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([RELAIS_BIN, *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


def written_bytes(workspace, skip=()):
    """Every byte relais could have written: all files under the workspace
    (data directory, logs, captured stdout/stderr), but for its top-level
    folders named in `skip` (connectors/, which holds what the test wrote)."""
    chunks = []
    for folder, subfolders, files in os.walk(workspace.root):
        if folder == workspace.root:
            subfolders[:] = [name for name in subfolders if name not in skip]
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                chunks.append(f.read())
    return b"\n".join(chunks)
