import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../src/diag/diagnostic.js';
import { loadCluster } from '../../src/model/load.js';
import { DIAGNOSTIC_CASES, svc } from './diagnostic-inputs.js';

function load(text: string, name = 'c.yaml') {
  const sink = new DiagnosticSink();
  const cluster = loadCluster([{ name, text }], sink);
  return { cluster, diags: sink.items.map((d) => ({ code: d.code, severity: d.severity, line: d.span?.line, col: d.span?.col })) };
}


describe('loadCluster diagnostics', () => {
  it.each(DIAGNOSTIC_CASES)('%s', (_name, text, code, line, col) => {
    const { diags } = load(text);
    expect(diags).toContainEqual({ code, severity: 'error', line, col });
  });

  // kube-proxy accepts these and behaves in a defined way: kpsim does the same and says so.
  it.each([
    [
      'slice address of the wrong family (kube-proxy skips the endpoint)',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints:\n- addresses: ["fd00::1"]\n',
      'EPS_WRONG_FAMILY',
      8,
      15,
    ],
    [
      'slice without addressType (kube-proxy ignores the slice)',
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  labels: {kubernetes.io/service-name: web}\nendpoints:\n- addresses: ["10.0.0.1"]\n',
      'EPS_NO_ADDRESS_TYPE',
      1,
      1,
    ],
  ])('%s is a warning', (_name, text, code, line, col) => {
    const { diags } = load(text);
    expect(diags).toContainEqual({ code, severity: 'warning', line, col });
    expect(diags.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('reports a duplicate object at its second definition', () => {
    const one = svc('  clusterIP: 10.96.0.1\n');
    const { diags } = load(`${one}---\n${one}`);
    expect(diags).toContainEqual({ code: 'OBJ_DUPLICATE', severity: 'error', line: 9, col: 1 });
  });

  it('warns about a slice port that names no port of its service (kube-proxy ignores it)', () => {
    const text = `${svc('  clusterIP: 10.96.0.1\n  ports:\n  - {name: http, port: 80}\n')}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s\n  namespace: shop\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints: []\nports:\n- {name: https, port: 443}\n`;
    expect(load(text).diags).toContainEqual(expect.objectContaining({ code: 'EPS_UNKNOWN_PORT', severity: 'warning' }));
  });

  it('warns about sloppy IPs the way kube-proxy reads them, without failing', () => {
    const { cluster, diags } = load(svc('  clusterIP: 172.30.0.041\n  externalIPs: [192.168.099.022]\n  ports:\n  - port: 80\n'));
    expect(diags.every((d) => d.severity === 'warning' && d.code === 'IP_NONCANONICAL')).toBe(true);
    expect(diags).toHaveLength(2);
    expect(cluster.services[0].clusterIP).toBe('172.30.0.041');
  });

  it('skips kinds kube-proxy does not read with one note', () => {
    const { diags } = load('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\n');
    expect(diags).toEqual([{ code: 'OBJ_UNKNOWN_KIND', severity: 'note', line: undefined, col: undefined }]);
  });

  it('reads kind: List and JSON as kubectl prints them', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'x' }, spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] } }] });
    const { cluster, diags } = load(json, 'c.json');
    expect(diags).toEqual([]);
    expect(cluster.services.map((s) => `${s.namespace}/${s.name}:${s.ports[0].port}/${s.ports[0].protocol}`)).toEqual(['x/a:80/TCP']);
  });

  it('uses legacy Endpoints only for services without an EndpointSlice', () => {
    const ep = (name: string) => `---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: ${name}, namespace: shop}\nsubsets:\n- addresses: [{ip: 10.0.0.5, nodeName: n1}]\n  notReadyAddresses: [{ip: 10.0.0.6}]\n  ports: [{port: 80}]\n`;
    const slice = '---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\n  namespace: shop\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints: []\n';
    const { cluster } = load(`${svc('  clusterIP: 10.96.0.1\n  ports: [{port: 80}]\n')}${slice}${ep('web')}${ep('other')}`);
    expect(cluster.slices.map((s) => `${s.serviceName}:${s.mirrored}`)).toEqual(['web:false', 'other:true']);
    const mirrored = cluster.slices[1];
    expect(mirrored.endpoints.map((e) => [e.addresses[0], e.ready, e.serving, e.terminating, e.nodeName])).toEqual([
      ['10.0.0.5', true, true, false, 'n1'],
      ['10.0.0.6', false, false, false, null],
    ]);
  });
});
