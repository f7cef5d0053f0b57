// The responder of the kernel tests (probe.ts startResponder), run with node inside a pod
// namespace: `node responder.cjs tcp|udp PORT NAME`. Prints `listening` once it listens, then
// answers every connection or datagram with one line:
// `<name> <source address> <source port> <local address> <local port>`, so the client learns
// which endpoint address the node's DNAT chose and whether the node masqueraded. TCP listens on
// [::] (which also takes IPv4). UDP binds one socket per address of the namespace instead: a
// socket bound to a wildcard answers from whatever source address the route to the client
// prefers, and a connected client socket drops an answer that does not come from the address it
// sent to (a node sending to its second address saw every answer come from its first and read
// that as DROP). Link-local IPv6 addresses are left out (they need a scope).
'use strict';
const [proto, port, name] = process.argv.slice(2);
const plain = (a) => a.replace(/^::ffff:/, '');
const ready = () => process.stdout.write('listening\n');
if (proto === 'tcp') {
  require('node:net').createServer((s) => {
    s.on('error', () => {});
    s.end([name, plain(s.remoteAddress), s.remotePort, plain(s.localAddress), s.localPort].join(' ') + '\n');
  }).listen({ port: Number(port), host: '::' }, ready);
} else {
  const addrs = Object.values(require('node:os').networkInterfaces()).flat().filter((a) => !a.address.startsWith('fe80:'));
  let waiting = addrs.length;
  for (const a of addrs) {
    const v6 = a.family === 'IPv6' || a.family === 6;
    const sock = require('node:dgram').createSocket(v6 ? { type: 'udp6', ipv6Only: true } : 'udp4');
    sock.on('message', (m, r) => sock.send([name, plain(r.address), r.port, a.address, port].join(' ') + '\n', r.port, r.address));
    sock.bind(Number(port), a.address, () => { if (--waiting === 0) ready(); });
  }
}
