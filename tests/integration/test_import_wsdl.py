"""`relais import-wsdl`: the connector it writes from a WSDL is accepted by
`relais validate` and, served, calls the SOAP application the WSDL
describes (the npm soap server of tests/support/soap); SOAP 1.2 and RPC
bindings, names that need another parameter name, and WSDLs it refuses."""
import os
import re
import unittest

import relais_harness
import soap_peer
from async_relais import Caller, apikey_client, relais_config
from relais_harness import SOURCE_DIR, Workspace, enter, run_relais
from soap_peer import SoapBusinessApp

API_KEY = "import-wsdl-key"
WSDL = os.path.join(SOURCE_DIR, "tests", "support", "soap", "etat_civil.wsdl")

RPC_12 = """<?xml version="1.0"?>
<w:definitions xmlns:w="http://schemas.xmlsoap.org/wsdl/"
    xmlns:s12="http://schemas.xmlsoap.org/wsdl/soap12/"
    xmlns:x="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:example:ecoles"
    targetNamespace="urn:example:ecoles">
  <w:message name="InscrireIn">
    <w:part name="timestamp" type="x:dateTime"/>
    <w:part name="nonce" type="x:string"/>
    <w:part name="age" type="x:int"/>
    <w:part name="quotient.familial" type="x:decimal"/>
    <w:part name="fratrie" type="t:Fratrie"/>
  </w:message>
  <w:message name="InscrireOut"><w:part name="numero" type="x:string"/></w:message>
  <w:portType name="Ecoles">
    <w:operation name="Inscrire">
      <w:documentation>Inscrit un enfant à la cantine</w:documentation>
      <w:input message="t:InscrireIn"/><w:output message="t:InscrireOut"/>
    </w:operation>
  </w:portType>
  <w:binding name="EcolesSoap12" type="t:Ecoles">
    <s12:binding style="rpc" transport="http://schemas.xmlsoap.org/soap/http"/>
    <w:operation name="Inscrire">
      <s12:operation soapAction="urn:example:ecoles/Inscrire"/>
      <w:input><s12:body use="literal" namespace="urn:example:ecoles"/></w:input>
      <w:output><s12:body use="literal" namespace="urn:example:ecoles"/></w:output>
    </w:operation>
  </w:binding>
  <w:service name="Ecoles_Service">
    <w:port name="P" binding="t:EcolesSoap12"><s12:address location="https://ecoles.test/soap"/></w:port>
  </w:service>
</w:definitions>
"""


class ImportWsdlTest(unittest.TestCase):
    def setUp(self):
        self.ws = enter(self.addCleanup, Workspace())

    def imported(self, *args):
        result = run_relais("import-wsdl", *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def assert_valid(self, connector):
        self.ws.write_connector("imported.yaml", connector)
        self.ws.write_config(relais_config({}))
        result = run_relais("validate", "--config", self.ws.config)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_imported_connector_validates_and_calls_the_application(self):
        self.assertTrue(soap_peer.available(), "run tools/install-deps.sh")
        app = enter(self.addCleanup, SoapBusinessApp())
        connector = self.imported("--family", "etat-civil-citoyennete", WSDL)
        self.assertIn('soap_action: "urn:example:etat-civil#GetActe"', connector)
        self.assertIn("numero: {required: true}", connector)
        self.assertIn("motif: {}", connector)
        connector = connector.replace("http://127.0.0.1:8093", app.url)
        self.assert_valid(connector)
        self.ws.write_config(relais_config(
            {"tester": apikey_client(API_KEY, ["etat-civil-citoyennete"],
                                     {"etat-civil-service": "*"})}))
        relais = relais_harness.start_relais(self.addCleanup, self.ws)
        caller = Caller(relais, API_KEY)
        r = caller.get("/soap/etat-civil-service/get-acte", {"numero": "42"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["data"]["tns:acte"]["tns:nom"], "Martin")
        r = caller.get("/soap/etat-civil-service/deposer-demande",
                       {"reference": "R1", "nom": "Martin", "prenom": "Zoé"})
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.json()["data"]["tns:dossier"], r"^EC-\d+$")
        r = caller.get("/soap/etat-civil-service/get-acte", {})
        self.assertEqual((r.status, r.json()["err_class"]), (400, "missing-parameter"))

    def test_soap_1_2_rpc_and_names_relais_keeps_for_itself(self):
        path = self.ws.write("ecoles.wsdl", RPC_12)
        connector = self.imported("--slug", "ecoles", path)
        self.assertIn('version: "1.2"', connector)
        self.assertIn("slug: ecoles", connector)
        self.assertIn("timestamp_: {required: true}", connector)
        self.assertIn("nonce_: {required: true}", connector)
        self.assertIn("age: {type: integer, required: true}", connector)
        self.assertIn("quotient.familial: {type: number, required: true}", connector)
        self.assertIn("<tns:Inscrire>", connector)
        self.assertIn("<timestamp>{timestamp_}</timestamp>", connector)
        self.assertIn("Not imported (not simple values), to add to the body by hand: fratrie",
                      connector)
        self.assertIn('description: "Inscrit un enfant à la cantine"', connector)
        self.assertIn('data: "tns:InscrireResponse"', connector)
        self.assert_valid(connector)
        self.assertEqual(self.imported("--slug", "ecoles", "--soap-version", "1.2", path), connector)

    def test_refused_wsdls_say_why(self):
        cases = {
            "not-xml.wsdl": ("<definitions", "not well-formed XML"),
            "wsdl2.wsdl": ('<description xmlns="http://www.w3.org/ns/wsdl"/>',
                           "this is a WSDL 2.0 description: only WSDL 1.1 is imported"),
            "other.wsdl": ("<html/>", "not a WSDL 1.1 document"),
            "dtd.wsdl": ('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                         '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/">&x;</definitions>',
                         "a document type declaration (DTD) is not accepted"),
            "no-soap.wsdl": ('<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>',
                             "no service port is bound with SOAP 1.1 or 1.2"),
        }
        # A name that would write YAML of its own into the connector.
        cases["injection.wsdl"] = (
            open(WSDL, encoding="utf-8").read().replace(
                '<xsd:element name="type"',
                '<xsd:element name="x&#10;    personal_data: false&#10;    error_body: true"'),
            "a name in the WSDL is not an XML name")
        nested = "<xsd:sequence>" * 40 + "</xsd:sequence>" * 40
        cases["deep.wsdl"] = (
            open(WSDL, encoding="utf-8").read().replace(
                '<xsd:element name="type" type="xsd:string" minOccurs="0"/>', nested),
            "sequences nested deeper than 32")
        for name, (text, message) in cases.items():
            with self.subTest(name=name):
                result = run_relais("import-wsdl", self.ws.write(name, text))
                self.assertEqual(result.returncode, 1)
                self.assertIn(message, result.stderr)
                self.assertEqual(result.stdout, "")
        result = run_relais("import-wsdl", "--soap-version", "1.2", WSDL)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no service port is bound with SOAP 1.2", result.stderr)
        result = run_relais("import-wsdl", os.path.join(self.ws.root, "missing.wsdl"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot read", result.stderr)
        for args in ((), ("--soap-version", "2", WSDL), ("--bogus", WSDL)):
            result = run_relais("import-wsdl", *args)
            self.assertEqual(result.returncode, 2, args)
            self.assertIn("usage: relais import-wsdl", result.stderr)
        self.assertTrue(re.search(r"usage: relais import-wsdl",
                                  run_relais("import-wsdl", "--help").stdout))


if __name__ == "__main__":
    unittest.main()
