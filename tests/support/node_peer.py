"""A test peer written in node (under tests/support/<folder>, its packages
installed by tools/install-deps.sh with `npm ci`), run as a context
manager: started on port 0, it prints {"event":"listening","port":N} on
standard output once it accepts connections."""
import json
import os
import shutil
import subprocess
import time

SUPPORT_DIR = os.path.dirname(os.path.abspath(__file__))


def installed(folder, package):
    """Whether node and `package` of tests/support/`folder` are installed."""
    return shutil.which("node") is not None and os.path.isdir(
        os.path.join(SUPPORT_DIR, folder, "node_modules", package))


class NodePeer:
    """`node <script>` in tests/support/`folder`, with `env` added to the
    environment; its standard error goes to `log_path`."""

    def __init__(self, folder, script, env=None, log_path=None):
        self.folder = os.path.join(SUPPORT_DIR, folder)
        self.script = script
        self.env = dict(os.environ, **(env or {}))
        self.log_path = log_path or os.devnull
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["node", self.script], cwd=self.folder, env=self.env,
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
                print(f"{self.script} listening on port {self.port}")
                return self
        self.stop()
        raise RuntimeError(f"{self.script} did not start")

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

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
