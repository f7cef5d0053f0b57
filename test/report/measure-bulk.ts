// Where a bulk `kpsim trace --flows FILE --json [--no-paths]` spends its time (issue 13: 100k
// packets to Services through a 10k-service node's rules). Writes node.rules (kube-proxy-shaped,
// from bench/trace.ts's generator, in iptables-save spelling) and a JSON flows file into a
// temporary folder, then runs the kpsim executable on them as a user would and prints wall time,
// CPU time and peak RSS. A measuring script, not a test: run it by hand with
//   npx tsx test/report/measure-bulk.ts [SERVICES] [FLOWS] [-- extra trace flags]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeRuleset, NODE_IP, packets } from '../../bench/trace.js';
import { renderSave } from '../../src/iptables-save/index.js';

const [servicesArg, flowsArg, ...rest] = process.argv.slice(2).filter((a) => a !== '--');
const services = Number(servicesArg ?? 10_000);
const flows = Number(flowsArg ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'kpsim-bulk-'));
try {
  const rules = join(dir, 'node.rules');
  writeFileSync(rules, renderSave(kubeRuleset(services, 10)));
  const list = packets(services, flows).map((p, i) => ({ name: `f${i}`, sourceIP: p.sourceIP, sourcePort: p.sourcePort, protocol: 'TCP', destIP: p.destIP, destPort: p.destPort }));
  const flowsFile = join(dir, 'flows.json');
  writeFileSync(flowsFile, JSON.stringify(list));
  console.log(`${services} services x 10 endpoints (${(statSync(rules).size / 1e6).toFixed(1)} MB), ${flows} flows (${(statSync(flowsFile).size / 1e6).toFixed(1)} MB)`);
  const variants = rest.length ? [rest] : [['--json'], ['--json', '--no-paths']];
  for (const extra of variants) {
    const args = ['dist/bin/kpsim.js', 'trace', '--rules', rules, '--node-ip', NODE_IP, '--flows', flowsFile, ...extra, '-o', join(dir, 'out.jsonl')];
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, '--max-semi-space-size=64', '--expose-gc', ...args], { encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const last = r.stderr.trim().split('\n').at(-1) ?? '';
    const [user, sys, rss] = last.split(' ').map(Number);
    if (r.status !== 0) console.log(r.stderr.slice(0, 2000));
    const size = r.status === 0 ? statSync(join(dir, 'out.jsonl')).size : 0;
    console.log(`${extra.join(' ').padEnd(28)} exit ${r.status}  wall ${wall.toFixed(1)} s  cpu ${(user + sys).toFixed(1)} s  peak ${(rss / 1024).toFixed(0)} MB  output ${(size / 1e6).toFixed(1)} MB  ${(flows / wall).toFixed(0)} packets/s`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
