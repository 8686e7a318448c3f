"""A business application calling relais's SOAP service through zeep,
Debian's python3-zeep: run by /usr/bin/python3 (the Python that has it), not
by the tests' interpreter. zeep builds its client from relais's own ?wsdl.

    soap_zeep_client.py WSDL_URL USER PASSWORD (basic|digest) PREFIX

`basic`: the WSDL and the calls go with HTTP Basic (a requests Session).
`digest`: the WSDL is fetched with Basic, then the calls carry only a
WS-Security UsernameToken with a PasswordDigest (zeep.wsse).

Over each port of the WSDL (SOAP 1.1, then SOAP 1.2), it pings, opens a
demand with reference PREFIX-<port>, reports a status for it (retrying while
relais has not yet recorded the demand's correlation), and reports one for
an unknown reference, which must be a fault. Prints one JSON object: what
each call answered, per port."""
import json
import sys
import tempfile
import time

import requests
from zeep import Client
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

RELAIS = "urn:relais:gru:1"
PORTS = {"soap11": "RelaisSoap11", "soap12": "RelaisSoap12"}


def fault_of(call):
    try:
        call()
    except Fault as fault:
        error_class = fault.detail.find(f"{{{RELAIS}}}errorClass") if fault.detail is not None \
            else None
        return {"code": fault.code, "message": fault.message,
                "error_class": error_class.text if error_class is not None else None}
    return None


def report_until_correlated(service, reference):
    deadline = time.monotonic() + 20
    while True:
        try:
            return service.ReportStatus(reference=reference, status="received",
                                        message="Pris en compte",
                                        field=[{"name": "comment", "value": "zeep"}])
        except Fault as fault:
            unknown = fault.detail is not None and \
                fault.detail.findtext(f"{{{RELAIS}}}errorClass") == "unknown-reference"
            if not unknown or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main(wsdl_url, user, password, mode, prefix):
    wsdl = requests.get(wsdl_url, auth=(user, password), timeout=10)
    wsdl.raise_for_status()
    session = requests.Session()
    wsse = None
    if mode == "basic":
        session.auth = (user, password)
    else:
        wsse = UsernameToken(user, password, use_digest=True)
    with tempfile.NamedTemporaryFile(suffix=".wsdl") as local:
        local.write(wsdl.content)
        local.flush()
        client = Client(wsdl=local.name, transport=Transport(session=session, timeout=10),
                        wsse=wsse)
        results = {}
        for name, port in PORTS.items():
            service = client.bind("RelaisService", port)
            reference = f"{prefix}-{name}"
            results[name] = {
                "ping": service.Ping(),
                "demand": service.CreateDemand(
                    reference=reference,
                    field=[{"name": "adresse", "value": "3 rue des Lilas"},
                           {"name": "description", "value": f"zeep {name}"}]),
                "report": report_until_correlated(service, reference),
                "unknown": fault_of(lambda: service.ReportStatus(reference=f"{prefix}-unknown",
                                                                 status="received")),
                "undeclared": fault_of(lambda: service.CreateDemand(
                    field=[{"name": "undeclared", "value": "x"}])),
            }
    print(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
