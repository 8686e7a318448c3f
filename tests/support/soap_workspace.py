"""The relais the SOAP service's integration tests run: a `rest` connector
`voirie` whose business application opens demands (`demands:`) and reports
their status (`callbacks:`), one that only opens demands, one with neither,
and clients for every way of calling it (docs/soap-service.md)."""
import base64
import json
import os

from async_relais import FAST_DELIVERY, QUICK_OUTBOX, relais_config
from fake_wcs import FakeWcs
from relais_harness import Workspace, enter, start_relais

FAMILY = "polices-voirie"
GRU_ORIG = "relais.soap"
GRU_KEY = "soap-gru-shared-key"
APP_USER, APP_PASSWORD = "voirie-app", "voirie-app-password"
NO_STATUS_KEY = "soap-no-status-key"
NO_SOAP_KEY = "soap-not-granted-key"
FAR_USER, FAR_PASSWORD = "far-app", "far-app-password"
VOIRIE = "/rest/voirie/soap"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def voirie_connector(slug="voirie", callbacks=True):
    doc = {"slug": slug, "kind": "rest", "family": FAMILY,
           "upstream": {"base_url": "http://127.0.0.1:9/", "timeout": "2s"},
           "endpoints": {"lookup": {"request": {"path": "lookup"}}},
           "delivery": FAST_DELIVERY,
           "demands": {"formdef": "signalement-voirie", "channel": "web",
                       "fields": ["adresse", "description", "telephone"]}}
    if callbacks:
        doc["callbacks"] = {"reference": "/id", "fields": ["comment"],
                            "statuses": {"received": {"trigger": "recu"},
                                         "done": {"trigger": "fini", "terminal": True}}}
    return json.dumps(doc, indent=1)


def write_workspace(ws, wcs, server=None, log_file=None):
    ws.write_connector("voirie.yaml", voirie_connector())
    ws.write_connector("voirie-demands.yaml", voirie_connector("voirie-demands", callbacks=False))
    ws.write_connector("plain.yaml", json.dumps({
        "slug": "plain", "kind": "rest", "family": FAMILY,
        "upstream": {"base_url": "http://127.0.0.1:9/"},
        "endpoints": {"lookup": {"request": {"path": "lookup"}}}}))
    doc = json.loads(relais_config(
        clients={
            "voirie-app": {"basic": {"username": APP_USER, "password": APP_PASSWORD},
                           "families": [FAMILY],
                           "grants": {"voirie": "*", "voirie-demands": "*", "plain": "*"}},
            "no-status": {"apikey": NO_STATUS_KEY, "families": [FAMILY],
                          "grants": {"voirie": ["soap", "demands"]}},
            "no-soap": {"apikey": NO_SOAP_KEY, "families": [FAMILY],
                        "grants": {"voirie": ["demands", "status"]}},
            "far-app": {"basic": {"username": FAR_USER, "password": FAR_PASSWORD},
                        "allow_from": ["10.0.0.0/8"], "families": [FAMILY],
                        "grants": {"voirie": "*"}},
        },
        outbox=dict(QUICK_OUTBOX),
        gru={"url": wcs.url + "/", "orig": GRU_ORIG, "key": GRU_KEY},
        log_level="debug" if log_file else None, log_file=log_file))
    doc["server"].update(server or {})
    ws.write_config(json.dumps(doc, indent=1))


def start_workspace(add_cleanup, server=None, log_file=None):
    """A fake w.c.s., a workspace written by write_workspace and relais
    serving it; each is stopped or removed by `add_cleanup` (a test's
    addCleanup or its class's addClassCleanup). Returns (wcs, ws, relais)."""
    wcs = enter(add_cleanup, FakeWcs(GRU_ORIG, GRU_KEY))
    ws = enter(add_cleanup, Workspace())
    log_path = None
    if log_file:
        log_path = os.path.join(ws.root, log_file)
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
    write_workspace(ws, wcs, server, log_file)
    return wcs, ws, start_relais(add_cleanup, ws, log_path=log_path)
