"""The `base-adresse` connector kind against a fake BAN geocoder and API
Geo, through the real relais binary: the shape of every endpoint, ids that
resolve again without storage (and across restarts), refusals, upstream
failures (outage, 429, malformed JSON, timeout), relais's own rate limit,
the reference cache, what SIGHUP keeps, and what is (not) written."""
import base64
import json
import os
import signal
import stat
import threading
import time
import unittest
import urllib.parse
import uuid

from fake_geo import FakeGeo
import relais_harness
from relais_harness import PLUGIN_DIR, Workspace, enter, poll_until, written_bytes

API_KEY = "base-adresse-integration-key"
AUTH = {"Authorization": "Bearer " + API_KEY}
CANARY = "CANARY-" + uuid.uuid4().hex[:12]


def connector(slug, fake, scenario, endpoints, **extra):
    doc = {"slug": slug, "kind": "base-adresse", "family": "reference",
           "geocoder": {"base_url": f"{fake.url}/{scenario}/geocodage", "timeout": "5s"},
           "api_geo": {"base_url": f"{fake.url}/{scenario}/", "timeout": "5s"},
           "endpoints": {name: {} for name in endpoints}}
    for key, value in extra.items():
        if key in ("geocoder", "api_geo"):
            doc[key].update(value)
        else:
            doc[key] = value
    return json.dumps(doc, indent=1)


ALL = ["search", "reverse", "addresses", "streets", "cities", "departments", "regions"]


def write_config(ws, slugs, data="./var"):
    ws.write_config(
        "server: {listen: \"127.0.0.1:0\", threads: 2}\n"
        "logging: {level: debug}\n"
        f"paths: {{connectors: ./connectors, plugins: \"{PLUGIN_DIR}\", data: {data}}}\n"
        "clients:\n"
        "  tester:\n"
        f"    apikey: {API_KEY}\n"
        "    families: [reference]\n"
        "    grants:\n" + "".join(f"      {slug}: \"*\"\n" for slug in slugs))


def get(relais, slug, endpoint, **params):
    query = urllib.parse.urlencode(params)
    return relais.get(f"/base-adresse/{slug}/{endpoint}?{query}", headers=AUTH)


class BaseAdresseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = enter(cls.addClassCleanup, FakeGeo())
        cls.down = enter(cls.addClassCleanup, FakeGeo())
        cls.ws = enter(cls.addClassCleanup, Workspace())
        fake = cls.fake
        connectors = {
            "ban": connector("ban", fake, "ok", ALL, id_key="integration-id-key-0123456789abcdefghij"),
            "ban-429": connector("ban-429", fake, "429", ["search", "cities"]),
            "ban-bad": connector("ban-bad", fake, "malformed", ["search", "cities"]),
            "ban-shape": connector("ban-shape", fake, "shape", ["search", "regions"]),
            "ban-slow": connector("ban-slow", fake, "slow", ["search"],
                                  geocoder={"timeout": "500ms"}),
            "ban-limited": connector("ban-limited", fake, "limited", ["search"],
                                     geocoder={"rate_limit": {"per_second": 2, "burst": 2,
                                                              "max_wait": "0ms"}}),
            "ban-refresh": connector("ban-refresh", fake, "refresh", ["cities"],
                                     cache={"ttl": "1s", "max_stale": "1h"}),
            "ban-down": connector("ban-down", cls.down, "ok",
                                  ["search", "cities", "departments", "regions"],
                                  cache={"ttl": "1s", "max_stale": "1h"}),
        }
        for slug, text in connectors.items():
            cls.ws.write_connector(slug + ".yaml", text)
        write_config(cls.ws, connectors)
        cls.relais = relais_harness.start_relais(cls.addClassCleanup, cls.ws)

    def get(self, slug, endpoint, **params):
        return get(self.relais, slug, endpoint, **params)

    def assert_error(self, response, status, err_class):
        self.assertEqual(response.status, status, response)
        body = response.json()
        self.assertEqual(body["err"], 1)
        self.assertEqual(body["err_class"], err_class, body)
        self.assertIsNone(body["data"])
        return body

    # -- shapes ---------------------------------------------------------

    def test_search_is_a_nominatim_array(self):
        r = self.get("ban", "search", q="8 boulevard du palais", zipcode="75004",
                     lat="48.85", lon="2.34", page_limit="3")
        self.assertEqual(r.status, 200, r)
        items = r.json()
        self.assertIsInstance(items, list)
        self.assertEqual(len(items), 1)
        item = items[0]
        self.assertEqual(item["display_name"], "8 Boulevard du Palais 75004 Paris")
        self.assertEqual(item["text"], item["display_name"])
        self.assertEqual(item["lat"], "48.855442")
        self.assertEqual(item["lon"], "2.346111")
        self.assertEqual(item["ban_id"], "75104_0318_00008")
        self.assertEqual(item["address"], {
            "road": "Boulevard du Palais", "house_number": "8", "postcode": "75004",
            "city": "Paris", "citycode": "75104", "country": "France"})
        sent = self.fake.queries("ok", "/geocodage/search")[-1]
        self.assertEqual(sent, {"q": "8 boulevard du palais", "limit": "3", "postcode": "75004",
                                "lat": "48.85", "lon": "2.34"})

    def test_search_shorter_than_three_characters_finds_nothing_without_a_call(self):
        before = self.fake.count("ok", "/geocodage/search")
        r = self.get("ban", "search", q="ab")
        self.assertEqual((r.status, r.json()), (200, []))
        self.assertEqual(self.fake.count("ok", "/geocodage/search"), before)

    def test_searches_are_sent_from_their_first_letter_or_digit(self):
        # The fake refuses, as the geocoder does, a q that starts otherwise.
        cases = [("search", "« 8 boulevard du palais", "8 boulevard du palais"),
                 ("addresses", "'boulevard du palais", "boulevard du palais"),
                 ("streets", "– du palais", "du palais")]
        for endpoint, typed, sent in cases:
            with self.subTest(endpoint=endpoint):
                r = self.get("ban", endpoint, q=typed)
                self.assertEqual(r.status, 200, r)
                found = r.json() if endpoint == "search" else r.json()["data"]
                self.assertIn("Boulevard du Palais", found[0]["text"])
                self.assertEqual(self.fake.queries("ok", "/geocodage/search")[-1]["q"], sent)
        before = self.fake.count("ok", "/geocodage/search")
        for endpoint, nothing in [("search", []), ("addresses", {"err": 0, "data": []}),
                                  ("streets", {"err": 0, "data": []})]:
            r = self.get("ban", endpoint, q="- « ’ ab")
            self.assertEqual((r.status, r.json()), (200, nothing))
        self.assertEqual(self.fake.count("ok", "/geocodage/search"), before)

    def test_reverse_is_a_nominatim_object(self):
        r = self.get("ban", "reverse", lat="45.43", lon="4.38")
        self.assertEqual(r.status, 200, r)
        item = r.json()
        self.assertEqual(item["display_name"], "1 Place de l'Hôtel de Ville 42000 Saint-Étienne")
        self.assertEqual(item["address"]["city"], "Saint-Étienne")
        self.assertEqual(item["address"]["road"], "Place de l'Hôtel de Ville")
        self.assertEqual(self.fake.queries("ok", "/geocodage/reverse")[-1],
                         {"lat": "45.43", "lon": "4.38", "limit": "1"})

    def test_addresses_ids_resolve_without_a_call(self):
        r = self.get("ban", "addresses", q="boulevard du palais")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["err"], 0)
        self.assertEqual([i["text"] for i in body["data"]],
                         ["8 Boulevard du Palais 75004 Paris", "Boulevard du Palais 75004 Paris"])
        first = body["data"][0]
        before = self.fake.count()
        again = self.get("ban", "addresses", id=first["id"])
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json(), {"err": 0, "data": [first]})
        self.assertEqual(self.fake.count(), before)
        # Deterministic: the same address gets the same id.
        self.assertEqual(self.get("ban", "addresses", q="boulevard du palais").json(), body)

    def test_forged_and_garbled_ids_are_refused(self):
        first = self.get("ban", "addresses", q="boulevard du palais").json()["data"][0]
        garbled = first["id"][:-3] + ("AAA" if not first["id"].endswith("AAA") else "BBB")
        for bad in [garbled, "75104_0318_00008", "2." + "A" * 3000, first["id"] + "==",
                    "1" + first["id"][1:]]:
            body = self.assert_error(self.get("ban", "addresses", id=bad), 400,
                                     "invalid-parameter")
            self.assertIn("id", body["err_desc"])
        # An id from another connector (another key) is not one of ours.
        streets = self.get("ban", "streets", q="boulevard du palais").json()["data"]
        self.assert_error(self.get("ban", "addresses", id=streets[0]["id"]), 400,
                          "invalid-parameter")

    def test_streets(self):
        r = self.get("ban", "streets", q="boulevard du palais", zipcode="75004")
        self.assertEqual(r.status, 200, r)
        data = r.json()["data"]
        self.assertEqual(len(data), 1)
        street = data[0]
        self.assertEqual({k: street[k] for k in ("text", "type", "city", "citycode", "zipcode",
                                                 "ban_id")},
                         {"text": "Boulevard du Palais", "type": "street", "city": "Paris",
                          "citycode": "75104", "zipcode": "75004", "ban_id": "75104_0318"})
        sent = self.fake.queries("ok", "/geocodage/search")[-1]
        self.assertEqual(sent["type"], "street")
        self.assertEqual(self.get("ban", "streets", id=street["id"]).json(),
                         {"err": 0, "data": [street]})

    def test_cities(self):
        r = self.get("ban", "cities", q="Saint-Étienne")
        self.assertEqual(r.status, 200, r)
        data = r.json()["data"]
        self.assertEqual([c["id"] for c in data], ["42218.42000", "42218.42100"])
        self.assertEqual(data[0], {
            "id": "42218.42000", "text": "42000 Saint-Étienne", "code": "42218",
            "name": "Saint-Étienne", "zipcode": "42000", "population": 173089,
            "department_code": "42", "department_name": "Loire", "region_code": "84",
            "region_name": "Auvergne-Rhône-Alpes"})
        by_zipcode = self.get("ban", "cities", q="42100").json()["data"]
        self.assertEqual([c["id"] for c in by_zipcode], ["42218.42100"])
        by_id = self.get("ban", "cities", id="2A004.20090").json()["data"]
        self.assertEqual([c["text"] for c in by_id], ["20090 Ajaccio"])
        by_department = self.get("ban", "cities", department_code="75").json()["data"]
        self.assertEqual({c["code"] for c in by_department}, {"75056"})
        self.assertEqual(self.fake.queries("ok", "/communes")[-1]["codeDepartement"], "75")

    def test_departments_and_regions(self):
        r = self.get("ban", "departments", region_code="94")
        self.assertEqual(r.json(), {"err": 0, "data": [
            {"id": "2A", "text": "2A - Corse-du-Sud", "code": "2A", "name": "Corse-du-Sud",
             "region_code": "94"}]})
        self.assertEqual(self.get("ban", "departments", id="42").json()["data"][0]["name"],
                         "Loire")
        self.assertEqual(self.get("ban", "regions", q="corse").json(), {"err": 0, "data": [
            {"id": "94", "text": "94 - Corse", "code": "94", "name": "Corse"}]})
        self.assertEqual(len(self.get("ban", "regions").json()["data"]), 3)

    def test_reference_answers_are_cached(self):
        first = self.get("ban", "regions", q="auvergne")
        self.assertEqual(first.status, 200, first)
        before = self.fake.count()
        second = self.get("ban", "regions", q="auvergne")
        self.assertEqual(second.json(), first.json())
        self.assertEqual(self.fake.count(), before)

    def test_address_searches_are_never_cached(self):
        self.get("ban", "search", q="hotel de ville")
        before = self.fake.count("ok", "/geocodage/search")
        self.get("ban", "search", q="hotel de ville")
        self.assertEqual(self.fake.count("ok", "/geocodage/search"), before + 1)

    # -- refusals -------------------------------------------------------

    def test_invalid_parameters(self):
        cases = [
            ("search", {}, "missing-parameter", "q"),
            ("search", {"q": "rue", "zipcode": "7500x"}, "invalid-parameter", "zipcode"),
            ("search", {"q": "rue", "citycode": "2C004"}, "invalid-parameter", "citycode"),
            ("search", {"q": "rue", "lat": "91.5", "lon": "2"}, "invalid-parameter", "lat"),
            ("search", {"q": "rue", "lat": "48"}, "missing-parameter", "lon"),
            ("search", {"q": "rue", "page_limit": "1000"}, "invalid-parameter", "page_limit"),
            ("search", {"q": "x" * 201}, "invalid-parameter", "q"),
            ("reverse", {"lat": "48.8"}, "missing-parameter", "lon"),
            ("reverse", {"lat": "48.8", "lon": "1e3"}, "invalid-parameter", "lon"),
            ("addresses", {}, "missing-parameter", "q or id"),
            ("streets", {"zipcode": "75004"}, "missing-parameter", "q or id"),
            ("cities", {}, "missing-parameter", "q, code"),
            ("cities", {"code": "123456"}, "invalid-parameter", "code"),
            ("cities", {"id": "75056.123"}, "invalid-parameter", "id"),
            ("cities", {"department_code": "99"}, "invalid-parameter", "department_code"),
            ("departments", {"id": "999"}, "invalid-parameter", "id"),
            ("departments", {"region_code": "x1"}, "invalid-parameter", "region_code"),
            ("regions", {"id": "1"}, "invalid-parameter", "id"),
        ]
        before = self.fake.count()
        for endpoint, params, err_class, named in cases:
            with self.subTest(endpoint=endpoint, params=params):
                body = self.assert_error(self.get("ban", endpoint, **params), 400, err_class)
                self.assertIn(named, body["err_desc"])
                for value in params.values():
                    if len(value) >= 3:
                        self.assertNotIn(value, body["err_desc"])
        self.assertEqual(self.fake.count(), before)

    def test_only_get(self):
        r = self.relais.post("/base-adresse/ban/search?q=rue", body={}, headers=AUTH)
        self.assert_error(r, 405, "method-not-allowed")
        self.assertEqual(r.header("Allow"), "GET")

    # -- upstream failures ----------------------------------------------

    def test_upstream_429_becomes_503_and_relais_holds_off(self):
        before = self.fake.count("429")
        body = self.assert_error(self.get("ban-429", "search", q="rue de rivoli"), 503,
                                 "upstream-rate-limited")
        self.assertIn("429", body["err_desc"])
        self.assertEqual(self.fake.count("429"), before + 1)
        # Within Retry-After (2 s), relais does not call again.
        self.assert_error(self.get("ban-429", "search", q="rue de rivoli"), 503,
                          "upstream-rate-limited")
        self.assertEqual(self.fake.count("429"), before + 1)
        # The other upstream of the connector has its own limiter.
        self.assert_error(self.get("ban-429", "cities", q="paris"), 503, "upstream-rate-limited")
        self.assertEqual(self.fake.count("429"), before + 2)

    def test_own_rate_limit(self):
        results = []
        lock = threading.Lock()

        def call():
            r = self.get("ban-limited", "search", q="boulevard du palais")
            with lock:
                results.append(r)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(r.status for r in results)
        limited = [r for r in results if r.status == 503]
        self.assertGreaterEqual(len(limited), 6, statuses)
        for r in limited:
            self.assertEqual(r.json()["err_class"], "upstream-rate-limited")
        self.assertEqual(statuses.count(200) + len(limited), 12, statuses)
        # burst 2, then 2/s: the burst of 12 calls cannot have let more through.
        self.assertLessEqual(self.fake.count("limited"), 3)
        self.assertEqual(self.fake.count("limited"), statuses.count(200))

    def test_malformed_json_is_upstream_invalid_response(self):
        self.assert_error(self.get("ban-bad", "search", q="rue de rivoli"), 502,
                          "upstream-invalid-response")
        self.assert_error(self.get("ban-bad", "cities", q="paris"), 502,
                          "upstream-invalid-response")
        self.assert_error(self.get("ban-shape", "search", q="rue de rivoli"), 502,
                          "upstream-invalid-response")
        self.assert_error(self.get("ban-shape", "regions"), 502, "upstream-invalid-response")

    def test_slow_upstream_times_out(self):
        self.assert_error(self.get("ban-slow", "search", q="rue de rivoli"), 504,
                          "upstream-timeout")

    def test_stale_reference_data_is_refreshed_in_the_background(self):
        first = self.get("ban-refresh", "cities", code="75056")
        self.assertEqual(first.status, 200, first)
        self.assertEqual(self.fake.count("refresh"), 1)
        time.sleep(1.2)
        stale = self.get("ban-refresh", "cities", code="75056")
        self.assertEqual(stale.json(), first.json())
        poll_until(lambda: self.fake.count("refresh") == 2, 5, message="no refresh")
        time.sleep(0.2)
        self.get("ban-refresh", "cities", code="75056")
        self.assertEqual(self.fake.count("refresh"), 2)

    def test_outage_serves_cached_reference_data_and_fails_searches_cleanly(self):
        calls = [("cities", {"q": "paris"}), ("departments", {"id": "75"}),
                 ("regions", {"q": "corse"})]
        answers = {}
        for endpoint, params in calls:
            r = self.get("ban-down", endpoint, **params)
            self.assertEqual(r.status, 200, r)
            answers[endpoint] = r.json()
        self.assertEqual(self.get("ban-down", "search", q="boulevard du palais").status, 200)
        self.down.stop()
        time.sleep(1.2)  # past the TTL: entries are stale, their refreshes fail
        for _ in range(3):
            for endpoint, params in calls:
                r = self.get("ban-down", endpoint, **params)
                self.assertEqual((r.status, r.json()), (200, answers[endpoint]))
        body = self.assert_error(self.get("ban-down", "search", q="boulevard du palais"), 502,
                                 "upstream-unreachable")
        self.assertIn("geocoder", body["err_desc"])
        self.assert_error(self.get("ban-down", "cities", q="ajaccio"), 502,
                          "upstream-unreachable")
        self.assertTrue(self.relais.proc.poll() is None)

    # -- privacy --------------------------------------------------------

    def test_canary_address_is_not_written_anywhere(self):
        street = CANARY + " rue des Secrets"
        r = self.get("ban", "search", q=street)
        self.assertEqual(r.status, 200, r)
        self.assertIn(CANARY, r.json()[0]["display_name"])
        found = self.get("ban", "addresses", q=street).json()["data"]
        self.assertEqual(self.get("ban", "addresses", id=found[0]["id"]).status, 200)
        self.get("ban-bad", "search", q=street)
        self.get("ban-429", "search", q=street)
        self.get("ban", "search", q=street, zipcode="bad" + CANARY)
        self.assertIn(CANARY, self.fake.queries("ok", "/geocodage/search")[-1]["q"])
        # The request lines of those calls are written: wait for the last.
        poll_until(lambda: "invalid-parameter" in self.relais.log_text(), 5)
        self.assertNotIn(CANARY.encode(), written_bytes(self.ws))


class BaseAdresseLifecycleTest(unittest.TestCase):
    """What a SIGHUP and a restart keep: one relais per test, no id_key (the
    key file of the data directory)."""

    def setUp(self):
        self.fake = enter(self.addCleanup, FakeGeo())
        self.ws = enter(self.addCleanup, Workspace())
        self.ws.write_connector("ban.yaml", connector(
            "ban", self.fake, "ok", ALL, cache={"ttl": "1s", "max_stale": "1h"}))
        self.ws.write_connector("ban-429.yaml", connector("ban-429", self.fake, "429", ["search"]))
        write_config(self.ws, ["ban", "ban-429"])
        self.relais = relais_harness.start_relais(self.addCleanup, self.ws)

    def reload(self):
        self.relais.signal(signal.SIGHUP)
        self.relais.wait_for_log(lambda line: line.get("event") == "config_reloaded")

    def test_reload_during_an_outage_keeps_serving_cached_reference_data(self):
        first = get(self.relais, "ban", "cities", q="paris")
        self.assertEqual(first.status, 200, first)
        self.fake.stop()
        self.reload()
        time.sleep(1.2)  # past the TTL too: the refresh fails, the stale entry stays
        for _ in range(2):
            again = get(self.relais, "ban", "cities", q="paris")
            self.assertEqual((again.status, again.json()), (200, first.json()))
        self.assert_status(get(self.relais, "ban", "cities", q="ajaccio"), 502)

    def test_a_new_id_key_empties_the_streets_cache_only(self):
        calls = [("cities", {"q": "paris"}), ("departments", {"id": "75"}),
                 ("regions", {"q": "corse"}), ("streets", {"q": "boulevard du palais"})]
        answers = {}
        for endpoint, params in calls:
            r = get(self.relais, "ban", endpoint, **params)
            self.assertEqual(r.status, 200, r)
            answers[endpoint] = r.json()
        self.ws.write_connector("ban.yaml", connector(
            "ban", self.fake, "ok", ALL, cache={"ttl": "1s", "max_stale": "1h"},
            id_key="another-id-key-0123456789abcdefghijkl"))
        self.fake.stop()
        self.reload()
        for endpoint, params in calls[:3]:
            r = get(self.relais, "ban", endpoint, **params)
            self.assertEqual((r.status, r.json()), (200, answers[endpoint]))
        # Its cached ids were made with the old key.
        self.assert_status(get(self.relais, "ban", "streets", q="boulevard du palais"), 502)

    def test_reload_keeps_the_hold_off_of_a_429(self):
        self.fake.retry_after = 30
        self.assert_status(get(self.relais, "ban-429", "search", q="rue de rivoli"), 503)
        self.assertEqual(self.fake.count("429"), 1)
        self.reload()
        r = get(self.relais, "ban-429", "search", q="rue de rivoli")
        self.assert_status(r, 503)
        self.assertEqual(r.json()["err_class"], "upstream-rate-limited")
        self.assertEqual(self.fake.count("429"), 1)

    def test_a_reload_keeps_the_data_directory_and_its_key(self):
        address = get(self.relais, "ban", "addresses", q="boulevard du palais").json()["data"][0]
        write_config(self.ws, ["ban", "ban-429"], data="./elsewhere")
        self.reload()
        self.relais.wait_for_log(lambda line: line.get("event") == "restart_needed"
                                 and line.get("setting") == "paths.data")
        r = get(self.relais, "ban", "addresses", id=address["id"])
        self.assertEqual((r.status, r.json()), (200, {"err": 0, "data": [address]}))
        self.assertFalse(os.path.exists(os.path.join(self.ws.root, "elsewhere")))

    def test_ids_are_opaque_and_resolve_after_a_restart(self):
        found = get(self.relais, "ban", "addresses", q="boulevard du palais").json()["data"]
        address = found[0]
        street = get(self.relais, "ban", "streets", q="boulevard du palais").json()["data"][0]
        key_file = os.path.join(self.ws.data, "base-adresse-id.key")
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        with open(key_file, "rb") as f:
            key = f.read()
        encoded = address["id"][2:]
        sealed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        for field in (b"Boulevard du Palais", b"75104_0318", b"48.855442", b"2.346111", b"Paris"):
            self.assertNotIn(field, sealed)

        self.relais.stop()
        self.relais = relais_harness.start_relais(self.addCleanup, self.ws)
        with open(key_file, "rb") as f:
            self.assertEqual(f.read(), key)
        before = self.fake.count()
        r = get(self.relais, "ban", "addresses", id=address["id"])
        self.assertEqual((r.status, r.json()), (200, {"err": 0, "data": [address]}))
        r = get(self.relais, "ban", "streets", id=street["id"])
        self.assertEqual((r.status, r.json()), (200, {"err": 0, "data": [street]}))
        self.assertEqual(self.fake.count(), before)
        flipped = bytearray(sealed)
        flipped[len(flipped) // 2] ^= 1
        forged = "2." + base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("=")
        r = get(self.relais, "ban", "addresses", id=forged)
        self.assert_status(r, 400)
        self.assertEqual(r.json()["err_class"], "invalid-parameter")

    def assert_status(self, response, status):
        self.assertEqual(response.status, status, response)


if __name__ == "__main__":
    unittest.main()
