#!/usr/bin/env python3
"""Sends relais malformed and hostile traffic from both sides for a while.

relais runs on the shipped configuration (config/relais.yaml and
connectors/), in a temporary directory, with every upstream and the GRU core
pointed at one hostile server of this script. Clients then call every
endpoint of every connector, with or without valid credentials, with mutated
queries, headers and bodies, sometimes as broken HTTP; the hostile server
answers relais's calls with mutated JSON, XML and SOAP, wrong framing and
odd statuses. Meant for a sanitized build (docs/testing.md):

    make sanitize                  # builds build-asan
    ASAN_OPTIONS=log_path=/tmp/fuzz/asan RELAIS_BIN=build-asan/relais \\
        tools/fuzz/http_fuzz.py --seconds 300

relais also gets a SIGHUP (a reload) every few seconds. The script fails
(exit 1) if relais stops answering /_relais/health, crashes, or does not
exit 0 on SIGTERM; the sanitizer's reports, if any, are in its
log_path. The seed makes a run repeatable as far as threads allow.
Standard library only.
"""
import argparse
import base64
import glob
import json
import os
import random
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import publik  # noqa: E402  (the signer of the tests, written from the spec)
import relais_harness  # noqa: E402
from relais_harness import RelaisProcess, Workspace  # noqa: E402

HOSTILE_STRINGS = [
    "", "'", '"', "\\", "../../etc/passwd", "..;/", "%2e%2e%2f", "%00", "\x00", "\r\nX-Injected: 1",
    "{{", "}}", "{body:/x}", "${env:HOME}", "<", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xFFFE;",
    "\u202e", "\ufffe", "\udcff", "é" * 300, "A" * 5000, "9" * 40, "-0", "1e999", "NaN", "null",
    "true", "[]", "{}", "0x10", " ", "\t", "?", "#", "&", "=", "+", "%", "%zz", "/", "//",
]

JSON_SEEDS = [
    b'{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point",'
    b'"coordinates":[2.35,48.85]},"properties":{"label":"1 rue X","score":0.9,"id":"75056_1",'
    b'"name":"1 rue X","postcode":"75001","citycode":"75056","city":"Paris","street":"rue X"}}]}',
    b'[{"nom":"Paris","code":"75056","codesPostaux":["75001","75002"],"codeDepartement":"75",'
    b'"codeRegion":"11","population":2100000}]',
    b'{"data":{"id":12,"status":"ok","items":[1,2.5,"x",null,true,{"a":[]}]},"err":0}',
    b'{"access_token":"abc","token_type":"Bearer","expires_in":3600}',
    b'{"err":0,"data":{"id":"12","url":"https://wcs.example.org/f/12/"}}',
]

XML_SEEDS = [
    b'<?xml version="1.0" encoding="UTF-8"?><parcelle xmlns="urn:cad" id="123AB45">'
    b'<commune code="75056">Paris</commune><surface unit="m2">120</surface></parcelle>',
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<ns:ActeResponse xmlns:ns="urn:etat-civil"><ns:numero>12</ns:numero>'
    b'<ns:statut>ok</ns:statut></ns:ActeResponse></soap:Body></soap:Envelope>',
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
    b'<soap:Fault><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code>'
    b'<soap:Reason><soap:Text xml:lang="fr">non</soap:Text></soap:Reason></soap:Fault>'
    b'</soap:Body></soap:Envelope>',
]

SOAP_REQUEST_SEED = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:r="urn:relais" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
    b'oasis-200401-wss-wssecurity-secext-1.0.xsd"><soap:Header><wsse:Security>'
    b'<wsse:UsernameToken><wsse:Username>urbanisme-app</wsse:Username>'
    b'<wsse:Password>demo-urbanisme-key</wsse:Password></wsse:UsernameToken>'
    b'</wsse:Security></soap:Header><soap:Body><r:ReportStatus><r:reference>12</r:reference>'
    b'<r:status>accepted</r:status><r:message>ok</r:message><r:field name="a">b</r:field>'
    b'</r:ReportStatus></soap:Body></soap:Envelope>')

TOKENS = [b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800", b",", b":", b"<", b">", b"/>",
          b"</", b"&", b"&#", b"]]>", b"<!DOCTYPE x [<!ENTITY e 'x'>]>", b"\x00", b"\xff",
          b"\xc3", b"\xef\xbf\xbe", b"1e400", b"-", b"18446744073709551616", b"xmlns:a='b'",
          b"[" * 200, b"{\"a\":" * 200, b"<a>" * 300]


def mutate(data, rng):
    """A few random edits of `data`: bytes flipped, tokens inserted, cuts,
    repeats."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 2:
            del data[pos:pos + rng.randint(1, 40)]
        elif op == 3 and data:
            start = rng.randrange(len(data))
            data[pos:pos] = data[start:start + rng.randint(1, 200)] * rng.randint(1, 20)
        else:
            data = data[:pos]
    return bytes(data)


def hostile_body(rng):
    seed = rng.choice(JSON_SEEDS + XML_SEEDS)
    return seed if rng.random() < 0.2 else mutate(seed, rng)


class HostileUpstream(socketserver.ThreadingTCPServer):
    """Reads one request per connection and answers it badly on purpose."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, seed):
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.answers = 0

    def draw(self):
        with self.lock:
            self.answers += 1
            return random.Random(self.rng.random())


class HostileHandler(socketserver.BaseRequestHandler):
    def handle(self):
        rng = self.server.draw()
        self.request.settimeout(5)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                head += chunk
            if rng.random() < 0.05:
                return  # closes without a word
            self.request.sendall(hostile_response(rng))
        except OSError:
            pass


def hostile_response(rng):
    body = hostile_body(rng)
    status = rng.choice([200, 200, 200, 201, 204, 302, 400, 401, 404, 429, 500, 503, 999, 0])
    content_type = rng.choice(["application/json", "text/xml; charset=utf-8",
                               "application/soap+xml", "text/html", "", "application/json;x"])
    headers = [f"HTTP/1.1 {status} X".encode()]
    if content_type:
        headers.append(b"Content-Type: " + content_type.encode())
    for _ in range(rng.randint(0, 3)):
        headers.append(rng.choice([b"Retry-After: 99999999999", b"Retry-After: -1",
                                   b"Location: //evil/", b"Set-Cookie: a=b",
                                   b"X-Long: " + b"a" * 9000, b"Bad Header: x",
                                   b"Content-Length: 3", b"Transfer-Encoding: gzip"]))
    framing = rng.randrange(6)
    if framing == 0:  # exact length
        headers.append(b"Content-Length: %d" % len(body))
        payload = body
    elif framing == 1:  # announced longer than sent, then closed
        headers.append(b"Content-Length: %d" % (len(body) + rng.randint(1, 10**9)))
        payload = body
    elif framing == 2:  # chunked, valid
        headers.append(b"Transfer-Encoding: chunked")
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7])
                           for i in range(0, len(body), 7)) + b"0\r\n\r\n"
    elif framing == 3:  # chunked, broken
        headers.append(b"Transfer-Encoding: chunked")
        payload = rng.choice([b"fffffffffffffffff\r\n", b"zz\r\n", b"5\r\nab", b"-1\r\n",
                              b"3;ext=\"\r\nabc\r\n0\r\n\r\n", b"0\r\nTrailer: x\r\n\r\n"])
    elif framing == 4:  # until close
        payload = body
    else:  # garbage status line
        return rng.choice([b"HTTP/1.1 200\r\n\r\n", b"HTTP/9.9 200 OK\r\n\r\n", b"\r\n\r\n",
                           b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", b"garbage", b"\x00"])
    return b"\r\n".join(headers) + b"\r\n\r\n" + payload


def connector_routes(path):
    """(kind, slug, endpoints, words) of a connector file, read line by
    line: enough for the shipped files, which is all this reads. Each
    endpoint is (name, method, required parameters, other parameters), the
    method None for the routes a kind has without declaring them;
    words are every key of the file, tried as parameter names."""
    text = open(path, encoding="utf-8").read()
    kind = re.search(r"^kind:\s*(\S+)", text, re.M).group(1)
    slug = re.search(r"^slug:\s*(\S+)", text, re.M).group(1)
    words = sorted(set(re.findall(r"^\s+([a-z_][a-z0-9_]*):", text, re.M)))
    endpoints = [(name, None, [], []) for name in BUILT_IN_ENDPOINTS.get(kind, ())]
    section = re.search(r"^endpoints:\n((?:[ #].*\n|\n)*)", text, re.M)
    blocks = re.split(r"^  ([A-Za-z0-9_-]+):.*\n", section.group(1), flags=re.M) if section else []
    for name, block in zip(blocks[1::2], blocks[2::2]):
        method = re.search(r"^    method:\s*(\w+)", block, re.M)
        parameters = re.search(r"^    parameters:\n((?:      .*\n|\n)*)", block, re.M)
        lines = re.findall(r"^      ([a-z_][a-z0-9_]*):(.*)", parameters.group(1) if parameters
                           else "", re.M)
        endpoints.append((name, method.group(1) if method else "GET",
                          [n for n, rest in lines if "required: true" in rest],
                          [n for n, rest in lines if "required: true" not in rest]))
    return kind, slug, endpoints, words


# Parameter names of the routes kinds have without declaring them
# (base-adresse, phonecalls, mail, franceconnect: see their pages in docs/).
COMMON_PARAMETERS = ["q", "id", "lat", "lon", "zipcode", "citycode", "code", "department_code",
                     "region_code", "page_limit", "caller", "callee", "reference", "state", "next"]

# Endpoints a kind has without declaring them, and the routes of status
# callbacks and the SOAP service.
BUILT_IN_ENDPOINTS = {
    "base-adresse": ("search", "reverse", "addresses", "streets", "cities", "departments",
                     "regions"),
    "franceconnect": ("login", "callback", "identity", "logout"),
    "mail": ("mails", "closed", "deliveries", "soap"),
    "rest": ("deliveries", "status", "soap"),
    "xml": ("deliveries", "status", "soap"),
    "soap": ("deliveries", "status", "soap"),
}


def prepare(ws, upstream_port):
    """Copies the shipped configuration into the Workspace `ws`, every URL
    on 127.0.0.1 and the GRU core's pointed at the hostile upstream."""
    base = f"http://127.0.0.1:{upstream_port}"
    routes = []
    for path in sorted(glob.glob(os.path.join(ROOT, "connectors", "*.yaml"))):
        text = open(path, encoding="utf-8").read()
        text = re.sub(r"https?://(127\.0\.0\.1|localhost)(:\d+)?", base, text)
        routes.append(connector_routes(ws.write_connector(os.path.basename(path), text)))
    config = open(os.path.join(ROOT, "config", "relais.yaml"), encoding="utf-8").read()
    config = config.replace('listen: "127.0.0.1:8080"', 'listen: "127.0.0.1:0"')
    config = config.replace("https://wcs.example.org/", base + "/")
    config = config.replace("connectors: ../connectors", "connectors: ./connectors")
    config = config.replace("data: ../var", "data: ./var")
    ws.write_config(config)
    return routes


WCS = ("publik", "wcs.example.org", "demo-wcs-key-change-me")
# The clients of config/relais.yaml by the connectors they are granted: most
# calls carry credentials that let them reach the connector.
GRANTED = {
    "ban": [WCS, ("apikey", "demo-key")],
    "demo-adresses": [WCS, ("apikey", "demo-key")],
    "demo-urbanisme": [WCS, ("apikey", "demo-urbanisme-key")],
    "standard": [("apikey", "demo-ipbx-key"), ("apikey", "demo-portal-key")],
    "courrier": [WCS, ("basic", "gec", "demo-gec-password")],
}
REFUSED = [("publik", "wcs.example.org", "wrong"), ("apikey", "nope"),
           ("basic", "gec", "nope"), ("none",)]


def hostile_value(rng, plausible=False):
    if plausible:
        return rng.choice(["12", "75056", "75001", "75", "11", "1001", "mairie", "rue de la Paix",
                           "2.35", "48.85", "1", "https://wcs.example.org/f/12/", "123AB45",
                           "0601020304"])
    value = rng.choice(HOSTILE_STRINGS)
    if rng.random() < 0.5:
        value = mutate(value.encode("utf-8", "surrogatepass"), rng).decode("latin-1")
    return value


def quote(text):
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


def client_request(rng, routes):
    """Raw bytes of one request to relais: half of them plausible enough to
    reach a connector and its upstream, the others hostile throughout."""
    plausible = rng.random() < 0.5
    kind, slug, endpoints, words = rng.choice(routes)
    endpoint, declared_method, required, optional = rng.choice(endpoints)
    if not plausible and rng.random() < 0.05:
        endpoint = hostile_value(rng)
    path = f"/{kind}/{slug}/{quote(endpoint)}"
    if not plausible and rng.random() < 0.2:
        path += "/" + quote(hostile_value(rng))
    if not plausible and rng.random() < 0.1:
        path = rng.choice(["/_relais/deliveries/" + hostile_value(rng), "/_relais/metrics",
                           "/%2e%2e/x", "//x", "/rest/../rest/x/y", "*", "/" + "a/" * 300])
    if plausible and declared_method is None:  # a kind's own route: guess among common names
        names = [name for name in COMMON_PARAMETERS if rng.random() < 0.4]
    elif plausible:
        names = required + [name for name in optional if rng.random() < 0.5]
    else:
        names = [rng.choice(words + required + optional) for _ in range(rng.randint(0, 5))]
    params = [(name, hostile_value(rng, plausible) if rng.random() < 0.8 else
               str(rng.randint(-5, 10**6))) for name in names]
    query = "&".join(quote(name) + "=" + quote(value) for name, value in params)
    headers = {"Host": "relais"}
    credential = rng.choice(GRANTED.get(slug, [WCS]) if plausible or rng.random() < 0.6
                            else REFUSED)
    if credential[0] == "publik":
        query = publik.sign_query(
            query + ("&" if query else "") + "orig=" + credential[1], credential[2])
    elif credential[0] == "apikey":
        if rng.random() < 0.5:
            query += ("&" if query else "") + "apikey=" + credential[1]
        else:
            headers["Authorization"] = "Bearer " + credential[1]
    elif credential[0] == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(
            f"{credential[1]}:{credential[2]}".encode()).decode()
    if plausible:
        method = declared_method or rng.choice(["GET", "POST"])
    else:
        method = rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"])
    body = b""
    if method in ("POST", "PUT", "PATCH") or rng.random() < 0.05:
        body = rng.choice(JSON_SEEDS + [SOAP_REQUEST_SEED, json.dumps(
            {w: hostile_value(rng, plausible)
             for w in rng.sample(words, min(len(words), 4))}).encode()])
        if not plausible or rng.random() < 0.3:
            body = mutate(body, rng)
        headers["Content-Type"] = rng.choice(["application/json", "text/xml",
                                              "application/soap+xml; charset=utf-8",
                                              "multipart/form-data; boundary=x", ""])
    for name, value in rng.sample([
            ("X-Request-ID", hostile_value(rng)), ("Idempotency-Key", hostile_value(rng)),
            ("SOAPAction", '"urn:relais#ReportStatus"'), ("Expect", "100-continue"),
            ("Accept", "text/event-stream"), ("Connection", "close"),
            ("Cookie", "fc_state=" + hostile_value(rng))], rng.randint(0, 3)):
        headers[name] = value
    framing = rng.randrange(10) if not plausible else 2
    lines = [f"{method} {path}{'?' + query if query else ''} HTTP/1.1"]
    if framing == 0:  # chunked
        headers["Transfer-Encoding"] = "chunked"
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100])
                        for i in range(0, len(body), 100)) + b"0\r\n\r\n"
    elif framing == 1:  # a length that lies
        headers["Content-Length"] = str(len(body) + rng.choice([-1, 1, 10**6]))
    elif body or method in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    raw = "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body
    return mutate(raw, rng) if not plausible and rng.random() < 0.1 else raw


def send(port, raw, timeout=10):
    """Sends `raw` on a new connection; returns the final status ("" for
    no answer, None if the connection failed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
                # The first final answer: an interim 100 Continue may come first.
                heads = re.findall(rb"HTTP/1\.1 (\d{3})", answer)
                if any(not code.startswith(b"1") for code in heads):
                    break
            status = re.findall(rb"HTTP/1\.1 ([2-5]\d\d)", answer)
            return status[0].decode() if status else ""
    except OSError:
        return None


def healthy(port):
    return send(port, b"GET /_relais/health HTTP/1.1\r\nHost: x\r\n\r\n") == "200"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--reload-every", type=float, default=5,
                        help="seconds between two SIGHUP (reloads)")
    args = parser.parse_args()
    binary = os.environ.get("RELAIS_BIN", os.path.join(ROOT, "build", "relais"))
    print(f"seed {args.seed}, {args.seconds:g} s, {binary}", flush=True)

    upstream = HostileUpstream(args.seed)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    ws = Workspace()
    routes = prepare(ws, upstream.server_address[1])
    relais_harness.RELAIS_BIN = binary
    relais = RelaisProcess(ws)
    try:
        relais.start(timeout=30)
    except RuntimeError as error:
        print(error)
        ws.cleanup()
        return 1
    port, proc = relais.port, relais.proc

    statuses = {}
    failures = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def client(index):
        rng = random.Random(args.seed * 1000 + index)
        while time.monotonic() < stop_at and not failures:
            status = send(port, client_request(rng, routes))
            key = status or "none"
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
            if proc.poll() is not None:
                failures.append(f"relais exited with {proc.returncode}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(args.reload_every)
        if proc.poll() is None:
            relais.signal(signal.SIGHUP)  # a reload under the load
            if not healthy(port):
                failures.append("/_relais/health did not answer 200")
    for t in threads:
        t.join()
    if proc.poll() is None:
        code = relais.stop(timeout=60)  # killed if it has not exited by then
        if code != 0:
            failures.append(f"relais exited with {code} on SIGTERM")
    upstream.shutdown()
    print(f"{sum(statuses.values())} requests, {upstream.answers} upstream answers; "
          f"statuses {dict(sorted(statuses.items()))}")
    if failures:
        print("FAILED: " + "; ".join(dict.fromkeys(failures)))
        print(f"workspace kept: {ws.root}")
        return 1
    ws.cleanup()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
