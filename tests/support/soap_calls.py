"""Calls to relais's SOAP service written by hand (Python stdlib only), so
that tests choose every byte: SOAP 1.1 and 1.2 envelopes of the operations
of schemas/relais.wsdl, WS-Security UsernameToken headers (text and digest,
computed here independently of relais), and the reading of answers and
faults."""
import base64
import datetime
import hashlib
import os
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
RELAIS = "urn:relais:gru:1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}


def fields_xml(fields):
    return "".join(f"<r:field><r:name>{escape(name)}</r:name><r:value>{escape(value)}</r:value>"
                   "</r:field>" for name, value in fields.items())


def report_status(reference, status, message=None, fields=None):
    parts = []
    if reference is not None:
        parts.append(f"<r:reference>{escape(reference)}</r:reference>")
    if status is not None:
        parts.append(f"<r:status>{escape(status)}</r:status>")
    if message is not None:
        parts.append(f"<r:message>{escape(message)}</r:message>")
    return "<r:ReportStatus>" + "".join(parts) + fields_xml(fields or {}) + "</r:ReportStatus>"


def create_demand(reference=None, fields=None):
    ref = f"<r:reference>{escape(reference)}</r:reference>" if reference is not None else ""
    return "<r:CreateDemand>" + ref + fields_xml(fields or {}) + "</r:CreateDemand>"


PING = "<r:Ping/>"


def envelope(body, version=SOAP11, header=""):
    head = f"<s:Header>{header}</s:Header>" if header else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="{version}" '
            f'xmlns:r="{RELAIS}">{head}<s:Body>{body}</s:Body></s:Envelope>')


def created_now(shift=datetime.timedelta()):
    when = datetime.datetime.now(datetime.timezone.utc) + shift
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def username_token(username, password, digest=False, nonce=None, created=None,
                   must_understand=True, version=SOAP11):
    """A wsse:Security header block. A digest is Base64(SHA-1(nonce + created
    + password)) over the raw nonce bytes (Username Token Profile 1.1)."""
    nonce = os.urandom(16) if nonce is None else nonce
    created = created or created_now()
    if digest:
        value = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode())
                                 .digest()).decode()
        kind = "PasswordDigest"
    else:
        value, kind = password, "PasswordText"
    understand = ' s:mustUnderstand="1"' if must_understand else ""
    return (f'<wsse:Security{understand} xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
            f"<wsse:UsernameToken><wsse:Username>{escape(username)}</wsse:Username>"
            f'<wsse:Password Type="{TOKEN_PROFILE}#{kind}">{escape(value)}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>")


@dataclass
class Answer:
    """A SOAP answer: HTTP status and content type, and what the body says."""
    status: int
    content_type: str
    version: str        # envelope namespace of the answer
    operation: str      # local name of the body's element (Fault for a fault)
    values: dict        # child local name -> text, of a non-fault answer
    fault_code: str = None    # local part: Client/Server (1.1), Sender/Receiver (1.2)
    fault_string: str = None
    error_class: str = None
    raw: bytes = b""


def read_answer(response):
    root = ET.fromstring(response.body)
    version = root.tag[1:].split("}")[0]
    body = root.find(f"{{{version}}}Body")
    (element,) = list(body)
    operation = element.tag.split("}")[1]
    answer = Answer(response.status, response.header("content-type"), version, operation, {},
                    raw=response.body)
    if operation != "Fault":
        answer.values = {child.tag.split("}")[1]: child.text for child in element}
        return answer
    if version == SOAP12:
        code = element.find(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value").text
        answer.fault_string = element.find(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text").text
        detail = element.find(f"{{{SOAP12}}}Detail")
    else:
        code = element.find("faultcode").text
        answer.fault_string = element.find("faultstring").text
        detail = element.find("detail")
    answer.fault_code = code.split(":")[-1]
    answer.error_class = detail.find(f"{{{RELAIS}}}errorClass").text
    return answer


class _Response:
    """What relais_harness.Response offers read_answer()."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())


def post_expecting_continue(port, path, body, headers, timeout=60):
    """POSTs a large body the way careful clients do: the head first, with
    `Expect: 100-continue`, and the body only if relais asks for it. A body
    refused from its announced length is then never sent."""
    body = body.encode() if isinstance(body, str) else body
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
            "Expect: 100-continue", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("relais closed the connection without answering")
            received += chunk
        if received.startswith(b"HTTP/1.1 100"):
            sock.sendall(body)
            received = received.split(b"\r\n\r\n", 1)[1]
            while b"\r\n\r\n" not in received:
                received += sock.recv(65536)
        first, rest = received.split(b"\r\n\r\n", 1)
        lines = first.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        length = int(fields.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return _Response(status, fields, rest[:length])


class SoapCaller:
    """Posts envelopes to one connector's SOAP service."""

    def __init__(self, relais, path, headers=None):
        self.relais = relais
        self.path = path
        self.headers = dict(headers or {})

    def post_raw(self, body, version=SOAP11, headers=None, path=None):
        # http.client would send a str as Latin-1: SOAP is UTF-8.
        body = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": CONTENT_TYPES[version]}
        all_headers.update(self.headers)
        all_headers.update(headers or {})
        return self.relais.post(path or self.path, body=body, headers=all_headers)

    def post_large(self, body, version=SOAP11):
        headers = {"Content-Type": CONTENT_TYPES[version]}
        headers.update(self.headers)
        return post_expecting_continue(self.relais.port, self.path, body, headers)

    def call(self, operation, version=SOAP11, header="", headers=None, path=None):
        return read_answer(self.post_raw(envelope(operation, version, header), version,
                                         headers, path))
