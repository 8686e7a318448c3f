"""The SOAP business application of tests/support/soap (node, npm soap)
as a context manager: see business_app.js for what it serves."""
import json
import urllib.request

import node_peer


def available():
    """Whether node and the npm soap package are installed."""
    return node_peer.installed("soap", "soap")


class SoapBusinessApp(node_peer.NodePeer):
    """`node business_app.js`; with `user` and `password`, every call must
    carry a matching WS-Security UsernameToken."""

    def __init__(self, user=None, password=None, log_path=None):
        env = {"OASIS_USER": user, "OASIS_PASSWORD": password} if user else {}
        super().__init__("soap", "business_app.js", env=env, log_path=log_path)

    def calls(self):
        """What each operation received: [{operation, args, headers}]."""
        with urllib.request.urlopen(self.url + "/_control/calls", timeout=10) as r:
            return json.load(r)

    def fail_next(self, status, times):
        """The next `times` calls get `status` with an HTML page."""
        request = urllib.request.Request(
            self.url + "/_control/mode", method="POST",
            data=json.dumps({"status": status, "times": times}).encode())
        with urllib.request.urlopen(request, timeout=10):
            pass
