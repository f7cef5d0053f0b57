// The direct readers of Services and EndpointSlices (src/model/fast-objects.ts) against the
// reference readers (service.ts, endpointslice.ts): whenever a direct reader gives an object, the
// reference reader reports nothing for it and gives the same object. Checked on every Service and
// EndpointSlice of the loading inputs, the golden cases and kubectl-shaped clusters, and on
// thousands of objects with one field replaced by an odd value or removed. The direct readers
// must also take the valid objects (else loading is as slow as before).
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { readEndpointSlice } from '../../src/model/endpointslice.js';
import { fastEndpointSlice, fastService } from '../../src/model/fast-objects.js';
import { nowhere } from '../../src/model/positioned.js';
import { ObjectReader } from '../../src/model/reader.js';
import { readService } from '../../src/model/service.js';
import type { Origin } from '../../src/model/types.js';
import { mulberry32 } from '../../src/util/rng.js';
import { clusterFiles, DIAGNOSTIC_CASES, OTHER_INPUTS } from './diagnostic-inputs.js';
import { kubectlObjects } from './kubectl-cluster.js';

type Obj = Record<string, unknown>;
const ORIGIN: Origin = { file: 'c.yaml', span: null, what: 'x' };

/** Both readers on one object: whether the direct one took it, and that it agrees when it did. */
function compare(obj: Obj): { took: boolean; reported: boolean } {
  const service = obj.kind === 'Service';
  const fast = service ? fastService(obj, ORIGIN) : fastEndpointSlice(obj, ORIGIN);
  const sink = new DiagnosticSink();
  const r = new ObjectReader(nowhere('c.yaml'), obj, sink, 'x');
  const reference = service ? readService(r, ORIGIN) : readEndpointSlice(r, ORIGIN);
  const reported = sink.items.length > 0;
  if (fast !== null) {
    expect(sink.items, JSON.stringify(obj)).toEqual([]);
    expect(isDeepStrictEqual(fast, reference), JSON.stringify(obj)).toBe(true);
  }
  return { took: fast !== null, reported };
}

const wanted = (o: unknown): o is Obj => typeof o === 'object' && o !== null && ((o as Obj).kind === 'Service' || (o as Obj).kind === 'EndpointSlice');

/** The Services and EndpointSlices of a YAML text (Lists opened). */
function objectsOf(text: string): Obj[] {
  const out: Obj[] = [];
  for (const d of parseAllDocuments(text)) {
    if (!('errors' in d) || d.errors.length > 0) continue;
    const v = d.toJS() as unknown;
    const items = typeof v === 'object' && v !== null && Array.isArray((v as Obj).items) ? ((v as Obj).items as unknown[]) : [v];
    out.push(...items.filter(wanted));
  }
  return out;
}

const corpus = (): Obj[] => [
  ...[...DIAGNOSTIC_CASES.map(([, t]) => t), ...OTHER_INPUTS.map(([, t]) => t)].flatMap(objectsOf),
  ...[...clusterFiles('golden'), 'examples/cluster.yaml'].flatMap((f) => objectsOf(readFileSync(f, 'utf8'))),
  ...kubectlObjects({ services: 30, endpointsPer: 3 }).filter(wanted),
  ...kubectlObjects({ services: 30, endpointsPer: 3, bare: true }).filter(wanted),
];

describe('direct Service and EndpointSlice readers', () => {
  it('agree with the reference readers on every input, and take every object that has no problem', () => {
    const objects = corpus();
    expect(objects.length).toBeGreaterThan(300);
    let took = 0;
    for (const o of objects) {
      const c = compare(o);
      if (c.took) took++;
      // Hints are left to the reference reader; every other object without a problem is taken.
      const hinted = Array.isArray(o.endpoints) && o.endpoints.some((e) => typeof e === 'object' && e !== null && 'hints' in e);
      if (!c.reported && !hinted) expect(c.took, JSON.stringify(o)).toBe(true);
    }
    expect(took).toBeGreaterThan(300);
  });

  it('take kubectl objects with all their metadata', () => {
    for (const o of kubectlObjects({ services: 20, endpointsPer: 4 }).filter(wanted)) expect(compare(o).took).toBe(true);
  });

  // Values that are of the wrong type, out of range, sloppy, or just unusual.
  const ODD: unknown[] = [
    null, '', 0, -1, 1, 80, 65535, 65536, 86400, 86401, 1.5, true, false, [], {}, ['x'], [null], [1], { a: 1 }, 'None', 'x',
    '10.0.0.1', '010.0.0.1', '10.0.0', '::1', '::ffff:10.0.0.1', 'fd00::1', 'FD00::1', '10.0.0.0/8', ' 10.0.0.0/8', ['10.0.0.1'], ['010.0.0.1'], ['::1'], ['None'], [''],
    'TCP', 'UDP', 'SCTP', 'tcp', 'IPv4', 'IPv6', 'FQDN', 'Cluster', 'Local', 'ClientIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'VIP', 'Proxy',
    { clientIP: { timeoutSeconds: 5 } }, { clientIP: { timeoutSeconds: 0 } }, { forZones: [{ name: 'a' }] }, { ready: false }, { ready: 'yes' },
    [{ ip: '1.2.3.4' }], [{ ip: '1.2.3.4', ipMode: 'Proxy' }], [{ hostname: 'h' }], [{ ip: 'bad' }], [{ port: 80 }], [{ port: 0 }], [{ name: 'http', port: 80 }, { name: 'http', port: 81 }],
    { 'kubernetes.io/service-name': 'web' }, { 'kubernetes.io/service-name': '' },
  ];
  const FIELDS = [
    'metadata', 'name', 'namespace', 'labels', 'spec', 'type', 'clusterIP', 'clusterIPs', 'ports', 'port', 'targetPort', 'nodePort', 'protocol', 'externalIPs',
    'loadBalancerSourceRanges', 'externalTrafficPolicy', 'internalTrafficPolicy', 'healthCheckNodePort', 'sessionAffinity', 'sessionAffinityConfig', 'clientIP',
    'timeoutSeconds', 'status', 'loadBalancer', 'ingress', 'ip', 'ipMode', 'hostname', 'addressType', 'endpoints', 'addresses', 'conditions', 'ready', 'serving',
    'terminating', 'nodeName', 'zone', 'hints',
  ];

  /** Every map in the object with the path to it (lists walked too). */
  function mapsIn(v: unknown, out: Obj[] = []): Obj[] {
    if (Array.isArray(v)) for (const x of v) mapsIn(x, out);
    else if (typeof v === 'object' && v !== null) {
      out.push(v as Obj);
      for (const x of Object.values(v)) mapsIn(x, out);
    }
    return out;
  }

  it('agree on objects with one field changed, added or removed', () => {
    const rand = mulberry32(4242);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const base = corpus().filter((o) => compare(o).took);
    let took = 0;
    let refused = 0;
    for (let n = 0; n < 6000; n++) {
      const o = structuredClone(pick(base));
      for (let edits = 1 + Math.floor(rand() * 2); edits > 0; edits--) {
        const m = pick(mapsIn(o));
        const r = rand();
        const keys = Object.keys(m);
        if (r < 0.15 && keys.length > 0) delete m[pick(keys)];
        else m[r < 0.75 && keys.length > 0 ? pick(keys) : pick(FIELDS)] = structuredClone(pick(ODD));
      }
      const c = compare(o);
      if (c.took) took++;
      else refused++;
    }
    // Both ways are exercised.
    expect(took).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });
});
