"""What the asynchronous-delivery integration tests share: relais.yaml and
connector files for async endpoints (docs/delivery.md), and a caller that
pushes and follows deliveries.

Files are written as JSON (which is YAML) so that test values need no
YAML quoting.
"""
import json
import re
import urllib.parse

from relais_harness import PLUGIN_DIR, poll_until, run_relais

TRACKING_ID = re.compile(r"^[0-9a-f]{32}$")

# Short delays so that retries happen within a test; max_age and
# max_attempts leave room for an upstream that is down a few seconds.
FAST_DELIVERY = {"max_attempts": 60, "max_age": "2m", "initial_backoff": "100ms",
                 "max_backoff": "500ms", "concurrency": 4}


# An outbox that sweeps and polls often, so that tests see its work soon.
QUICK_OUTBOX = {"retention": "1h", "dead_letter_retention": "1h", "sweep_interval": "200ms",
                "poll_interval": "100ms"}


def quick_outbox(**changes):
    """The `outbox` section of relais.yaml: QUICK_OUTBOX with `changes`."""
    return dict(QUICK_OUTBOX, **changes)


def pick(data, *names):
    """The values of `names` in a delivery's data, as a tuple to compare."""
    return tuple(data.get(name) for name in names)


def relais_config(clients, outbox=None, gru=None, log_level=None, log_file=None, threads=2,
                  limits=None):
    """relais.yaml: listens on 127.0.0.1:0, data in ./var; `limits`:
    server.limits."""
    doc = {
        "server": {"listen": "127.0.0.1:0", "threads": threads, "shutdown_grace": "2s"},
        "paths": {"connectors": "./connectors", "plugins": PLUGIN_DIR, "data": "./var"},
        "clients": clients,
    }
    if limits:
        doc["server"]["limits"] = limits
    logging = {}
    if log_level:
        logging["level"] = log_level
    if log_file:
        logging["file"] = log_file
    if logging:
        doc["logging"] = logging
    if outbox:
        doc["outbox"] = outbox
    if gru:
        doc["gru"] = gru
    return json.dumps(doc, indent=1)


def apikey_client(key, families, grants):
    return {"apikey": key, "families": list(families), "grants": dict(grants)}


def rest_connector(slug, family, base_url, endpoints, delivery=None, callbacks=None):
    doc = {"slug": slug, "kind": "rest", "family": family,
           "upstream": {"base_url": base_url, "timeout": "5s"}, "endpoints": endpoints}
    if delivery:
        doc["delivery"] = delivery
    if callbacks:
        doc["callbacks"] = callbacks
    return json.dumps(doc, indent=1)


def write_one_push_connector(ws, slug, family, app_url, api_key, delivery):
    """In `ws`: connector `slug` of `family`, whose endpoint `permit` pushes
    its body to `app_url`/`slug`/permits with `delivery`; client `gru`
    (`api_key`) granted it; an outbox sweeping every second."""
    ws.write_connector(slug + ".yaml", rest_connector(
        slug, family, f"{app_url}/{slug}/", {"permit": push_endpoint("permits")},
        delivery=delivery))
    ws.write_config(relais_config(
        clients={"gru": apikey_client(api_key, [family], {slug: "*"})},
        outbox=quick_outbox(sweep_interval="1s")))


def push_endpoint(path, parameters=None, body_schema=None, personal_data=None, query=None):
    """An async POST endpoint forwarding its whole body to `path`."""
    endpoint = {
        "method": "POST",
        "async": True,
        "parameters": parameters or {},
        "body_schema": body_schema or {"type": "object"},
        "request": {"method": "POST", "path": path, "body": "{body:/}"},
    }
    if query:
        endpoint["request"]["query"] = query
    if personal_data is not None:
        endpoint["personal_data"] = personal_data
    return endpoint


class Caller:
    """One client of relais (an API key) and what it asks."""

    def __init__(self, relais, apikey):
        self.relais = relais
        self.auth = {"Authorization": "Bearer " + apikey}

    def post(self, path, body=None, params=None, headers=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.relais.post(path + query, body=body,
                                headers=dict(self.auth, **{"Content-Type": "application/json"},
                                             **(headers or {})))

    def get(self, path, params=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self.relais.get(path + query, headers=self.auth)

    def push(self, slug, endpoint, body, params=None, headers=None):
        return self.post(f"/rest/{slug}/{endpoint}", body, params, headers)

    def delivery(self, tracking_id, slug=None):
        """GET /rest/{slug}/deliveries/{id}, or /_relais/deliveries/{id}."""
        if slug:
            return self.get(f"/rest/{slug}/deliveries/{tracking_id}")
        return self.get(f"/_relais/deliveries/{tracking_id}")

    def wait_state(self, tracking_id, states, timeout=20, slug=None):
        """Polls the delivery until its state is one of `states`; returns its data."""
        if isinstance(states, str):
            states = (states,)
        last = {}

        def reached():
            r = self.delivery(tracking_id, slug)
            if r.status != 200:
                last["r"] = r
                return None
            data = r.json()["data"]
            last["r"] = data
            return data if data["state"] in states else None

        return poll_until(reached, timeout, interval=0.05,
                          message=lambda: f"{tracking_id} not {states}: {last.get('r')}")


class DeliveryTestMixin:
    """Assertions and `relais outbox` calls of a unittest.TestCase whose
    `ws` is the Workspace relais runs on."""

    def assert_error(self, response, status, err_class):
        """An error answer: that status, err 1, that err_class, no data.
        Returns the answer's JSON."""
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual((body["err"], body["err_class"], body["data"]), (1, err_class, None), body)
        return body

    def outbox_cli(self, *args):
        """`relais outbox <args[0]> --config <ws config> <args[1:]>`."""
        return run_relais("outbox", args[0], "--config", self.ws.config, *args[1:])

    def outbox_rows(self, state):
        """How many messages `relais outbox list` shows in `state`."""
        r = self.outbox_cli("list", "--state", state, "--limit", "100000")
        self.assertEqual(r.returncode, 0, r.stderr)
        return len([line for line in r.stdout.splitlines()[1:] if line])

    def show(self, tracking_id):
        """`relais outbox show` of a delivery, which must succeed, parsed."""
        r = self.outbox_cli("show", tracking_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)
