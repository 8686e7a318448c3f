// A business application calling relais's SOAP service through the npm
// `soap` client (locked in package.json), built from relais's own ?wsdl.
//
//   node npm_client.js WSDL_URL USER PASSWORD (basic|digest) PREFIX
//
// `basic`: the WSDL (wsdl_headers) and the calls (BasicAuthSecurity) go with
// HTTP Basic. `digest`: the WSDL is fetched with Basic, the calls carry only
// a WS-Security UsernameToken with a PasswordDigest (WSSecurity).
//
// Over SOAP 1.1 and then SOAP 1.2 (forceSoap12Headers, on the 1.2 port), it
// pings, opens a demand with reference PREFIX-<version>, reports a status
// for it (retrying while relais has not yet recorded the correlation), and
// reports one for an unknown reference, which must be a fault. Prints one
// JSON object: what each call answered, per version.
'use strict';

const soap = require('soap');

const [wsdlUrl, user, password, mode, prefix] = process.argv.slice(2);
const basic = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

/** The errorClass a fault's detail carries, whichever way the client parsed it. */
function errorClassOf(error) {
  const fault = error && error.root && error.root.Envelope.Body.Fault;
  if (!fault) {
    throw error;
  }
  const detail = fault.detail || fault.Detail;
  const code = fault.faultcode || (fault.Code && fault.Code.Value);
  const message = fault.faultstring || (fault.Reason && (fault.Reason.Text.$value || fault.Reason.Text));
  return { code, message, error_class: detail && detail.errorClass, status: error.response && error.response.status };
}

async function faultOf(call) {
  try {
    await call();
  } catch (error) {
    return errorClassOf(error);
  }
  return null;
}

async function reportUntilCorrelated(port, reference) {
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const [result] = await port.ReportStatusAsync({
        reference, status: 'received', message: 'Pris en compte',
        field: [{ name: 'comment', value: 'npm soap' }],
      });
      return result.trackingId;
    } catch (error) {
      const fault = errorClassOf(error);
      if (fault.error_class !== 'unknown-reference' || Date.now() > deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function run(version, portName, options) {
  const client = await soap.createClientAsync(wsdlUrl, {
    wsdl_headers: { Authorization: basic }, ...options,
  });
  client.setSecurity(mode === 'basic'
    ? new soap.BasicAuthSecurity(user, password)
    : new soap.WSSecurity(user, password, { passwordType: 'PasswordDigest' }));
  const port = client.RelaisService[portName];
  const promised = (name) => (args) => new Promise((resolve, reject) => {
    port[name](args, (error, result, raw, headers) => (error ? reject(error) : resolve([result, raw, headers])));
  });
  const calls = {
    PingAsync: promised('Ping'),
    CreateDemandAsync: promised('CreateDemand'),
    ReportStatusAsync: promised('ReportStatus'),
  };
  const reference = `${prefix}-${version}`;
  const [ping] = await calls.PingAsync({});
  const [demand] = await calls.CreateDemandAsync({
    reference,
    field: [{ name: 'adresse', value: '4 allée des Tilleuls' }, { name: 'description', value: `npm ${version}` }],
  });
  return {
    ping: ping.version,
    demand: demand.trackingId,
    report: await reportUntilCorrelated(calls, reference),
    unknown: await faultOf(() => calls.ReportStatusAsync({ reference: `${prefix}-unknown`, status: 'received' })),
    undeclared: await faultOf(() => calls.CreateDemandAsync({ field: [{ name: 'undeclared', value: 'x' }] })),
  };
}

(async () => {
  const results = {
    soap11: await run('soap11', 'RelaisSoap11', {}),
    soap12: await run('soap12', 'RelaisSoap12', { forceSoap12Headers: true }),
  };
  process.stdout.write(JSON.stringify(results) + '\n');
})().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
