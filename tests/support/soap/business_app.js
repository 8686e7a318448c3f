// A civil-status business application speaking SOAP, served by the npm
// `soap` package from etat_civil.wsdl: the peer of relais's kind soap in
// tests/integration/test_soap_client.py.
//
// Paths: /ws/etat-civil (SOAP 1.1), /ws12/etat-civil (SOAP 1.2 answers).
// Operations: GetActe answers an act (numero "INCONNU": a Client fault,
// "PANNE": a Server fault); DeposerDemande files a request and answers a
// file number. With OASIS_USER/OASIS_PASSWORD set, every call must carry a
// matching WS-Security UsernameToken (digest or text). Control:
//   GET  /_control/calls   what each operation received (args, headers)
//   POST /_control/mode    {"status": 503, "times": 2}: answer that status,
//                          with an HTML page, to the next `times` calls
// Prints {"event":"listening","port":N} once it accepts connections.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const soap = require('soap');

const wsdl = fs.readFileSync(path.join(__dirname, 'etat_civil.wsdl'), 'utf8');
const calls = [];
let mode = { status: 0, times: 0 };
let files = 0;

function fault(code, text, soap12) {
  if (soap12) {
    return { Fault: { Code: { Value: 'soap:' + code }, Reason: { Text: text } } };
  }
  return { Fault: { faultcode: 'soap:' + code, faultstring: text } };
}

function services(soap12) {
  return {
    EtatCivilService: {
      EtatCivilPort: {
        GetActe(args, callback, headers, req) {
          calls.push({ operation: 'GetActe', args, headers: req.headers });
          if (args.numero === 'INCONNU') throw fault(soap12 ? 'Sender' : 'Client', 'Acte inconnu', soap12);
          if (args.numero === 'PANNE') throw fault(soap12 ? 'Receiver' : 'Server', 'Base indisponible', soap12);
          return {
            acte: { numero: args.numero, nom: 'Martin', prenom: 'Zoé', annee: 1987,
                    mention: ['mariage', 'divorce'] },
          };
        },
        DeposerDemande(args, callback, headers, req) {
          calls.push({ operation: 'DeposerDemande', args, headers: req.headers });
          if (args.nom === 'REFUS') throw fault(soap12 ? 'Sender' : 'Client', 'Demande refusée', soap12);
          files += 1;
          return { dossier: 'EC-' + files };
        },
      },
    },
  };
}

function authenticate(security) {
  const user = process.env.OASIS_USER;
  if (!user) return true;
  const token = security && security.UsernameToken;
  if (!token || token.Username !== user) return false;
  const password = token.Password;
  const type = (password && password.attributes && password.attributes.Type) || '';
  const value = typeof password === 'object' ? password.$value : password;
  if (type.endsWith('#PasswordDigest')) {
    const nonce = typeof token.Nonce === 'object' ? token.Nonce.$value : token.Nonce;
    return value === soap.passwordDigest(nonce, token.Created, process.env.OASIS_PASSWORD);
  }
  return value === process.env.OASIS_PASSWORD;
}

/// Control paths and the failure mode come before the SOAP services, which
/// npm soap registers as the server's request listeners.
function control(req, res) {
  if (req.url === '/_control/calls') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(calls));
    return true;
  }
  if (req.url === '/_control/mode' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      mode = Object.assign({ status: 0, times: 0 }, JSON.parse(body));
      res.writeHead(204);
      res.end();
    });
    return true;
  }
  if (!req.url.startsWith('/ws')) {
    res.writeHead(404);
    res.end();
    return true;
  }
  if (mode.times > 0) {
    mode.times -= 1;
    req.resume();
    res.writeHead(mode.status, { 'Content-Type': 'text/html' });
    res.end('<html><body><h1>Service Unavailable</h1></body></html>');
    return true;
  }
  return false;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', async () => {
  // npm soap registers its request listener once the WSDL is parsed.
  await Promise.all([['/ws/etat-civil', false], ['/ws12/etat-civil', true]].map(
    ([at, soap12]) => new Promise((resolve, reject) => {
      const listener = soap.listen(server, {
        path: at, services: services(soap12), xml: wsdl, forceSoap12Headers: soap12,
        callback: (err) => (err ? reject(err) : resolve()),
      });
      listener.authenticate = authenticate;
    })));
  const soapListeners = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (!control(req, res)) {
      for (const listener of soapListeners) listener.call(server, req, res);
    }
  });
  process.stdout.write(JSON.stringify({ event: 'listening', port: server.address().port }) + '\n');
});
