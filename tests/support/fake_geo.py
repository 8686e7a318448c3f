"""A fake BAN geocoder and API Geo for the base-adresse tests (stdlib only).

Answers in the real formats: GeoCodeJSON (a GeoJSON FeatureCollection whose
features carry `properties` label, score, id, type, name, housenumber,
street, postcode, citycode, city, context, x, y, importance) for
`/geocodage/search` and `/geocodage/reverse`, and API Geo's JSON arrays for
`/communes`, `/departements` and `/regions` (restricted to `fields=`).

The first path segment picks a behaviour, so that one fake serves several
connectors: `/{scenario}/geocodage/search`, `/{scenario}/communes`...

| scenario    | answer                                                      |
|-------------|-------------------------------------------------------------|
| ok          | the data below                                              |
| 429         | 429 Too Many Requests with `Retry-After: <retry_after>`     |
| malformed   | 200 application/json with a body that is not JSON           |
| shape       | 200 with JSON of another shape (an object, no features)     |
| slow        | waits `slow_seconds`, then as `ok`                          |

`requests` records every request as (scenario, path, query pairs). A search
whose q contains "CANARY" finds one address made from the query, so that a
test can follow the value through relais. A search whose q the geocoder
refuses (fewer than 3 or more than 200 characters, or not starting with a
digit or a letter that has a case) gets the geocoder's 400.
"""
import math
import threading
import time

from loopback_server import LoopbackHandler, LoopbackServer, parse_target

ADDRESSES = [
    {"coordinates": [2.346111, 48.855442],
     "properties": {"label": "8 Boulevard du Palais 75004 Paris", "score": 0.97,
                    "housenumber": "8", "id": "75104_0318_00008",
                    "name": "8 Boulevard du Palais", "postcode": "75004", "citycode": "75104",
                    "x": 652089.7, "y": 6862305.26, "city": "Paris",
                    "district": "Paris 4e Arrondissement", "context": "75, Paris, Île-de-France",
                    "type": "housenumber", "importance": 0.66, "street": "Boulevard du Palais"}},
    {"coordinates": [2.346525, 48.855994],
     "properties": {"label": "Boulevard du Palais 75004 Paris", "score": 0.9,
                    "id": "75104_0318", "name": "Boulevard du Palais", "postcode": "75004",
                    "citycode": "75104", "x": 652120.1, "y": 6862366.0, "city": "Paris",
                    "context": "75, Paris, Île-de-France", "type": "street", "importance": 0.6}},
    {"coordinates": [4.387146, 45.434305],
     "properties": {"label": "1 Place de l'Hôtel de Ville 42000 Saint-Étienne", "score": 0.8,
                    "housenumber": "1", "id": "42218_3920_00001",
                    "name": "1 Place de l'Hôtel de Ville", "postcode": "42000",
                    "citycode": "42218", "x": 808318.2, "y": 6482350.9, "city": "Saint-Étienne",
                    "context": "42, Loire, Auvergne-Rhône-Alpes", "type": "housenumber",
                    "importance": 0.5, "street": "Place de l'Hôtel de Ville"}},
]

COMMUNES = [
    {"nom": "Paris", "code": "75056", "codesPostaux": ["75001", "75002", "75004"],
     "codeDepartement": "75", "codeRegion": "11", "population": 2133111,
     "departement": {"code": "75", "nom": "Paris"},
     "region": {"code": "11", "nom": "Île-de-France"}},
    {"nom": "Saint-Étienne", "code": "42218", "codesPostaux": ["42000", "42100"],
     "codeDepartement": "42", "codeRegion": "84", "population": 173089,
     "departement": {"code": "42", "nom": "Loire"},
     "region": {"code": "84", "nom": "Auvergne-Rhône-Alpes"}},
    {"nom": "Ajaccio", "code": "2A004", "codesPostaux": ["20000", "20090"],
     "codeDepartement": "2A", "codeRegion": "94", "population": 71361,
     "departement": {"code": "2A", "nom": "Corse-du-Sud"},
     "region": {"code": "94", "nom": "Corse"}},
]

DEPARTEMENTS = [
    {"nom": "Paris", "code": "75", "codeRegion": "11"},
    {"nom": "Loire", "code": "42", "codeRegion": "84"},
    {"nom": "Corse-du-Sud", "code": "2A", "codeRegion": "94"},
]

REGIONS = [
    {"nom": "Île-de-France", "code": "11"},
    {"nom": "Auvergne-Rhône-Alpes", "code": "84"},
    {"nom": "Corse", "code": "94"},
]

COMMUNE_FIELDS = ["nom", "code", "codesPostaux", "codeDepartement", "codeRegion", "population"]


def _is_searchable(q):
    """The geocoder's rule for q, once trimmed."""
    first = q[:1]
    return 3 <= len(q) <= 200 and (first.lower() != first.upper() or "0" <= first <= "9")


def _feature(address):
    return {"type": "Feature",
            "geometry": {"type": "Point", "coordinates": address["coordinates"]},
            "properties": dict(address["properties"])}


def _collection(features, query):
    return {"type": "FeatureCollection", "version": "draft", "features": features,
            "attribution": "BAN", "licence": "ETALAB-2.0", "query": query, "limit": 5}


def _words(text):
    return text.lower().replace("-", " ").replace("'", " ").split()


def _select(items, query, filters, default_fields):
    """API Geo: items whose fields match the filters, with `fields` only."""
    out = []
    for item in items:
        if all(check(item, query[name]) for name, check in filters.items() if name in query):
            out.append(item)
    fields = query["fields"].split(",") if "fields" in query else default_fields
    return [{k: v for k, v in item.items() if k in fields} for item in out]


class _Handler(LoopbackHandler):
    server_version = "FakeGeo/1"

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's name
        target = parse_target(self.path)
        parts = target.path.strip("/").split("/", 1)
        scenario = parts[0]
        path = "/" + (parts[1] if len(parts) > 1 else "")
        query = dict(target.query)
        owner = self.owner
        with owner.lock:
            owner.requests.append((scenario, path, list(target.query)))
        if scenario == "429":
            self.send(429, {"code": 429, "message": "Too Many Requests"},
                      headers=[("Retry-After", str(owner.retry_after))])
            return
        if scenario == "malformed":
            self.send(200, b'{"type": "FeatureCollection", "features": [{"type": ')
            return
        if scenario == "shape":
            self.send(200, {"unexpected": True})
            return
        if scenario == "slow":
            time.sleep(owner.slow_seconds)
        if path == "/geocodage/search" and not _is_searchable(query.get("q", "").strip()):
            self.send(400, {"code": 400, "message": "Failed parsing query", "detail": [
                "q: must contain between 3 and 200 chars and start with a number or a letter"]})
            return
        answer = self.answer(path, query)
        if answer is None:
            self.send(404, {"code": 404, "message": "Not Found"})
        else:
            self.send(200, answer)

    def answer(self, path, query):
        if path == "/geocodage/search":
            return self.search(query)
        if path == "/geocodage/reverse":
            lat, lon = float(query["lat"]), float(query["lon"])
            nearest = min(ADDRESSES, key=lambda a: math.hypot(a["coordinates"][0] - lon,
                                                              a["coordinates"][1] - lat))
            return _collection([_feature(nearest)], None)
        if path == "/communes":
            return _select(COMMUNES, query, {
                "nom": lambda c, v: v.lower() in c["nom"].lower(),
                "code": lambda c, v: c["code"] == v,
                "codePostal": lambda c, v: v in c["codesPostaux"],
                "codeDepartement": lambda c, v: c["codeDepartement"] == v,
                "codeRegion": lambda c, v: c["codeRegion"] == v,
            }, COMMUNE_FIELDS)
        if path == "/departements":
            return _select(DEPARTEMENTS, query, {
                "nom": lambda d, v: v.lower() in d["nom"].lower(),
                "code": lambda d, v: d["code"] == v,
                "codeRegion": lambda d, v: d["codeRegion"] == v,
            }, ["nom", "code", "codeRegion"])
        if path == "/regions":
            return _select(REGIONS, query, {
                "nom": lambda r, v: v.lower() in r["nom"].lower(),
                "code": lambda r, v: r["code"] == v,
            }, ["nom", "code"])
        return None

    def search(self, query):
        q = query.get("q", "")
        if "CANARY" in q:
            found = [{"coordinates": [2.35, 48.85],
                      "properties": {"label": q + " 75004 Paris", "name": q, "type": "street",
                                     "id": "75104_9999", "postcode": "75004",
                                     "citycode": "75104", "city": "Paris", "score": 0.5}}]
        else:
            words = _words(q)
            found = [a for a in ADDRESSES
                     if all(w in _words(a["properties"]["label"]) for w in words)]
        for name, prop in (("type", "type"), ("postcode", "postcode"), ("citycode", "citycode")):
            if name in query:
                found = [a for a in found if a["properties"].get(prop) == query[name]]
        limit = int(query.get("limit", "5"))
        return _collection([_feature(a) for a in found[:limit]], q)


class FakeGeo(LoopbackServer):
    handler_class = _Handler
    thread_name = "fake-geo"

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.retry_after = 2
        self.slow_seconds = 2.0
        super().__init__()

    def count(self, scenario=None, path=None):
        """Requests seen so far, of `scenario` and `path` if given."""
        with self.lock:
            return sum(1 for s, p, _ in self.requests
                       if (scenario is None or s == scenario) and (path is None or p == path))

    def queries(self, scenario, path):
        with self.lock:
            return [dict(q) for s, p, q in self.requests if s == scenario and p == path]
