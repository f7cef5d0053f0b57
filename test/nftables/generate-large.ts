// A kube-proxy-shaped nftables transaction of any size, for measuring the reader: the base
// objects of the corpus' overall ruleset (golden/kube-proxy-nftables/overall-nftables-rules), then
// per service the chains, rules and elements kube-proxy writes for a ClusterIP with N endpoints
// (service chain with its masquerade rule and numgen verdict map, one endpoint chain each with the
// hairpin rule and the DNAT), in the order `nft -f` needs. Not kube-proxy's hashes: names are
// shaped like them. Usage: npx tsx test/nftables/generate-large.ts SERVICES ENDPOINTS > big.nft
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, loadOrder } from './corpus.js';

export function largeRuleset(services: number, endpoints: number): string {
  const corpus = readFileSync(join(GOLDEN, 'overall-nftables-rules/nft.txt'), 'utf8');
  const base = loadOrder(corpus.slice(0, corpus.indexOf('# svc1'))).trimEnd().split('\n');
  const byKind = (k: string) => base.filter((l) => l.split(' ')[1] === k);
  const sets = [...byKind('table'), ...byKind('set'), ...byKind('map')];
  const chains = byKind('chain');
  const rules = byKind('rule');
  const elements = byKind('element');
  const t = 'ip kube-proxy';
  for (let s = 0; s < services; s++) {
    const ip = `172.${30 + (s >> 16)}.${(s >> 8) & 255}.${s & 255}`;
    const hash = s.toString(36).toUpperCase().padStart(8, 'A');
    const svc = `service-${hash}-ns${s}/svc${s}/tcp/p80`;
    chains.push(`add chain ${t} ${svc}`);
    rules.push(`add rule ${t} ${svc} ip daddr ${ip} ip saddr != 10.0.0.0/8 jump mark-for-masquerade`);
    const eps: string[] = [];
    for (let e = 0; e < endpoints; e++) {
      const n = s * endpoints + e;
      const eip = `10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      const ep = `endpoint-${hash}-ns${s}/svc${s}/tcp/p80__${eip}/80`;
      eps.push(ep);
      chains.push(`add chain ${t} ${ep}`);
      rules.push(`add rule ${t} ${ep} ip saddr ${eip} jump mark-for-masquerade`);
      rules.push(`add rule ${t} ${ep} meta l4proto tcp dnat to ${eip}:80`);
    }
    rules.push(`add rule ${t} ${svc} numgen random mod ${endpoints} vmap { ${eps.map((ep, i) => `${i} : goto ${ep}`).join(' , ')} }`);
    elements.push(`add element ${t} cluster-ips { ${ip} }`);
    elements.push(`add element ${t} service-ips { ${ip} . tcp . 80 : goto ${svc} }`);
  }
  return [...sets, ...chains, ...rules, ...elements].join('\n') + '\n';
}

if (process.argv[1]?.endsWith('generate-large.ts')) {
  const [services = '10000', endpoints = '10'] = process.argv.slice(2);
  process.stdout.write(largeRuleset(Number(services), Number(endpoints)));
}
