// `trace --rules node.rules --dst NS/NAME[:PORT]`: the service port found on the node itself (its
// comments, or the objects' recomputed hashes), reached at the entry point --via names.
import { describe, expect, it } from 'vitest';
import { resolveServiceDestination } from '../../src/explain/service-destination.js';
import { caseText, compiled, dumpNode, row, withoutComments } from './nodes.js';

const iptables = row('iptables');

function view(name: string, bare = false, names = false) {
  const text = caseText(name, 'node.rules');
  return iptables.services(dumpNode(bare ? withoutComments(text) : text), 'ipv4', names ? compiled(name).names : null);
}

describe('a Service named on the command line, found on the node', () => {
  it('by name and port name, port number, or alone when it has one port', () => {
    const v = view('lb-source-ranges-include-node');
    const want = { ok: true, address: '10.96.0.41', portNumber: 80, protocol: 'TCP' };
    expect(resolveServiceDestination(v, 'edge/lb:http', 'clusterip')).toMatchObject(want);
    expect(resolveServiceDestination(v, 'edge/lb:80', 'clusterip')).toMatchObject(want);
    expect(resolveServiceDestination(v, 'edge/lb', 'clusterip')).toMatchObject(want);
  });

  it('at each kind of entry point --via names', () => {
    const v = view('lb-source-ranges-include-node');
    expect(resolveServiceDestination(v, 'edge/lb:http', 'loadbalancer')).toMatchObject({ ok: true, address: '198.51.100.21', portNumber: 80 });
    // A NodePort: every node address (the caller picks the node's), never the localhost one.
    expect(resolveServiceDestination(v, 'edge/lb:http', 'nodeport')).toMatchObject({ ok: true, address: null, portNumber: 30080 });
    expect(resolveServiceDestination(view('external-ips'), 'shop/web:http', 'externalip')).toMatchObject({ ok: true, address: '192.0.2.50', portNumber: 80 });
  });

  it('says why not: no such Service, no such port, no such entry point, several ports', () => {
    const v = view('lb-source-ranges-include-node');
    expect(resolveServiceDestination(v, 'edge/nope', 'clusterip')).toEqual({ ok: false, why: 'no service port of edge/nope on this node' });
    expect(resolveServiceDestination(v, 'edge/lb:https', 'clusterip')).toEqual({ ok: false, why: 'edge/lb: no port https on this node; name one of http' });
    expect(resolveServiceDestination(v, 'edge/lb:http', 'externalip')).toEqual({ ok: false, why: 'edge/lb:http has no externalip entry on this node (it has: clusterip, loadbalancer, nodeport)' });
    expect(resolveServiceDestination(view('multi-port'), 'shop/web', 'clusterip')).toEqual({ ok: false, why: 'shop/web: several ports on this node; name one of http, metrics' });
  });

  it('in a dump without comments only with the objects, and the unnamed ports are counted', () => {
    const bare = view('multi-port', true);
    expect(resolveServiceDestination(bare, 'shop/web:http', 'clusterip')).toEqual({
      ok: false,
      why: 'no service port of shop/web on this node (2 service ports have no name: the dump has no kube-proxy comments for them; give --objects to name them)',
    });
    expect(resolveServiceDestination(view('multi-port', true, true), 'shop/web:metrics', 'clusterip')).toMatchObject({ ok: true, portNumber: 9090 });
  });
});
