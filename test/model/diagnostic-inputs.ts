// The inputs of the loading diagnostics tests, shared by the test of the fast path's exactness
// (fast-load.test.ts), which reads every one of them both ways.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every `cluster.yaml` under a folder (the golden cases' clusters), in name order. */
export function clusterFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...clusterFiles(p));
    else if (name === 'cluster.yaml') out.push(p);
  }
  return out;
}

export const svc = (spec: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n${spec}`;

/** [name, text, code, line, col] of the expected error. */
export const DIAGNOSTIC_CASES: [string, string, string, number, number][] = [
  ['target port out of range', svc('  clusterIP: 10.96.0.1\n  ports:\n  - port: 80\n    targetPort: 70000\n'), 'SVC_BAD_PORT', 10, 17],
  ['port of the wrong type', svc('  clusterIP: 10.96.0.1\n  ports:\n  - port: "80"\n'), 'OBJ_BAD_TYPE', 9, 11],
  ['bad cluster IP', svc('  clusterIP: 10.96.0.300\n'), 'SVC_BAD_IP', 7, 14],
  ['unknown service type', svc('  type: Weird\n  clusterIP: 10.96.0.1\n'), 'OBJ_BAD_VALUE', 7, 9],
  ['duplicate port name', svc('  clusterIP: 10.96.0.1\n  ports:\n  - {name: a, port: 80}\n  - {name: a, port: 81}\n'), 'SVC_DUPLICATE_PORT', 10, 12],
  ['YAML syntax error', 'a: [1,\nb: 2\n', 'YAML_SYNTAX', 2, 1],
  ['slice without service label', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\naddressType: IPv4\nendpoints: []\n', 'EPS_NO_SERVICE_LABEL', 4, 3],
  ['bad interfaces annotation', 'apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  annotations:\n    kpsim.io/interfaces: eth0=banana\n', 'NODE_BAD_ANNOTATION', 6, 26],
];

/** Inputs whose diagnostics the tests check by other means. */
export const OTHER_INPUTS: [string, string][] = [
  ['duplicate object', `${svc('  clusterIP: 10.96.0.1\n')}---\n${svc('  clusterIP: 10.96.0.1\n')}`],
  [
    'slice port naming no service port',
    `${svc('  clusterIP: 10.96.0.1\n  ports:\n  - {name: http, port: 80}\n')}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  namespace: shop\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints: []\nports:\n- {name: https, port: 443}\n`,
  ],
  ['slice address of the wrong family', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints:\n- addresses: ["fd00::1"]\n'],
  ['slice without addressType', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  labels: {kubernetes.io/service-name: web}\nendpoints:\n- addresses: ["10.0.0.1"]\n'],
  ['sloppy IPs', svc('  clusterIP: 172.30.0.041\n  externalIPs: [192.168.099.022]\n  ports:\n  - port: 80\n')],
  ['skipped kinds', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n'],
];
