// The client of probe.ts `probe`, run with node inside a namespace:
// `node probe-client.cjs tcp|udp HOST PORT COUNT TIMEOUT_MS SOURCE_PORT SOURCE_ADDRESS`.
// Makes COUNT connections one after another, each bounded by TIMEOUT_MS, and prints a JSON array
// of {reply} or {error} (ECONNREFUSED for a REJECT, TIMEOUT for a DROP). SOURCE_PORT 0 lets the
// kernel pick; an empty SOURCE_ADDRESS sends from the route's address.
'use strict';
const [proto, host, port, count, timeoutMs, sourcePort, sourceAddress] = process.argv.slice(2);
const results = [];
function once() {
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); resolve(r); };
    const timer = setTimeout(() => { close(); done({ error: 'TIMEOUT' }); }, Number(timeoutMs));
    let close = () => {};
    if (proto === 'tcp') {
      const opts = { host, port: Number(port) };
      if (Number(sourcePort) > 0) opts.localPort = Number(sourcePort);
      if (sourceAddress) opts.localAddress = sourceAddress;
      const s = require('node:net').connect(opts);
      close = () => s.destroy();
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('end', () => { s.destroy(); done({ reply: data.trim() }); });
      s.on('error', (e) => done({ error: e.code || String(e) }));
    } else {
      const sock = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
      close = () => sock.close();
      sock.on('message', (m) => { sock.close(); done({ reply: String(m).trim() }); });
      sock.on('error', (e) => { sock.close(); done({ error: e.code || String(e) }); });
      sock.bind({ port: Number(sourcePort) || 0, address: sourceAddress || undefined }, () => sock.send('probe', Number(port), host));
    }
  });
}
(async () => {
  for (let i = 0; i < Number(count); i++) results.push(await once());
  process.stdout.write(JSON.stringify(results));
})();
