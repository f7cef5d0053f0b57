// The judge's TCP/UDP client (judge-node.ts sendFlow), run with node inside a namespace:
// `node flow-client.cjs tcp|udp HOST PORT SOURCE_PORTS TIMEOUT_MS SOURCE_ADDRESS TOGETHER START_AT`.
// Sends a batch of probes from one process, one from each of the comma-separated SOURCE_PORTS,
// each bounded by TIMEOUT_MS: all at once (TOGETHER=1), or the first alone (it may set state such
// as an affinity entry that the others then meet) and then the rest; not before START_AT (epoch
// ms), so that a sequence's timing does not depend on how long the process takes to start. Prints
// a JSON array of {port, sentAt, reply} or {port, sentAt, error}; UDP sockets are connected so
// that an ICMP port unreachable (REJECT) surfaces as ECONNREFUSED.
'use strict';
const [proto, host, port, ports, timeoutMs, sourceAddress, together, startAt] = process.argv.slice(2);
function once(sport) {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); close(); resolve({ port: sport, sentAt, ...r }); };
    const timer = setTimeout(() => done({ error: 'TIMEOUT' }), Number(timeoutMs));
    let close = () => {};
    if (proto === 'tcp') {
      const s = require('node:net').connect({ host, port: Number(port), localPort: sport, localAddress: sourceAddress || undefined });
      close = () => s.destroy();
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('end', () => done({ reply: data.trim() }));
      s.on('error', (e) => done({ error: e.code || String(e) }));
    } else {
      const sock = require('node:dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
      close = () => { try { sock.close(); } catch {} };
      sock.on('message', (m) => done({ reply: String(m).trim() }));
      sock.on('error', (e) => done({ error: e.code || String(e) }));
      sock.bind({ port: sport, address: sourceAddress || undefined }, () => sock.connect(Number(port), host, (e) => e ? done({ error: e.code || String(e) }) : sock.send('probe')));
    }
  });
}
(async () => {
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const all = ports.split(',').map(Number);
  const results = together === '1' ? [] : [await once(all.shift())];
  results.push(...(await Promise.all(all.map(once))));
  process.stdout.write(JSON.stringify(results));
})();
