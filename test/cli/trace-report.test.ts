// kpsim trace's report flags end to end: --verbose, --exact, --no-paths, --state, --reply, and
// their usage errors (exit 2) and impossible connections (exit 1).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const EXAMPLE = 'examples/cluster.yaml';
const WEB = [EXAMPLE, '--src', '10.244.1.7', '--dst', 'shop/web:http'];

function kpsim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'trace', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
});

describe('kpsim trace report flags', () => {
  it('the summary comes first, then one tree: no rule line repeats', () => {
    const r = kpsim(WEB);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.findIndex((l) => l.includes('PROBABILITY'))).toBeLessThan(lines.findIndex((l) => l.startsWith('path (')));
    const rules = lines.filter((l) => / -A [A-Z]/.test(l)).map((l) => l.replace(/^[\s│├└─]+/, ''));
    expect(new Set(rules).size).toBe(rules.length);
    expect(lines.length).toBeLessThan(45);
  });

  it('--verbose: every rule tried, the ones that did not match with why', () => {
    const r = kpsim([...WEB, '--verbose']);
    expect(r.stdout).toMatch(/- +\d+  -A KUBE-SERVICES -d 10\.96\.0\.30\/32 .*\n +-d 10\.96\.0\.30\/32: 10\.96\.0\.10 is outside\n/);
    expect(r.stdout).toContain('--ctstate INVALID: the packet is NEW,DNAT');
    const j = JSON.parse(kpsim([...WEB, '--verbose', '--json']).stdout);
    const missed = j.outcomes[0].path.filter((p: { matched?: boolean }) => p.matched === false);
    expect(missed.length).toBeGreaterThan(3);
    for (const p of missed) expect(p.why, JSON.stringify(p)).toEqual(expect.any(String));
    expect(j.outcomes[0].path[0].text).toBe('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  });

  it('JSON lines point into kpsim compile\'s output', () => {
    const save = execFileSync(process.execPath, [BIN, 'compile', EXAMPLE], { encoding: 'utf8' }).split('\n');
    const j = JSON.parse(kpsim([...WEB, '--json']).stdout);
    expect(j.rules).toEqual({ file: 'iptables.save', what: "kpsim compile's output, iptables-save spelling" });
    for (const step of j.outcomes[0].path) {
      if (step.rule === null) expect(save[step.line - 1]).toMatch(new RegExp(`^:${step.chain} `));
      else expect(save[step.line - 1]).toMatch(new RegExp(`^-A ${step.chain} `));
    }
  });

  it('--exact: the whole fraction; without, the short form', () => {
    expect(kpsim(WEB).stdout).toMatch(/0\.3333333335 +715827883\/2\^31 /);
    expect(kpsim([...WEB, '--exact']).stdout).toMatch(/0\.3333333335 +715827883\/2147483648 /);
  });

  it('--no-paths: outcomes only', () => {
    const text = kpsim([...WEB, '--no-paths']).stdout;
    expect(text).toContain('PROBABILITY');
    expect(text).not.toContain('path (');
    const j = JSON.parse(kpsim([...WEB, '--no-paths', '--json']).stdout);
    expect(j.outcomes).toHaveLength(3);
    for (const o of j.outcomes) expect(o.path).toBeUndefined();
    const full = JSON.parse(kpsim([...WEB, '--json']).stdout);
    expect(j.outcomes).toEqual(full.outcomes.map(({ path: _, ...o }: { path: unknown }) => o));
  });

  it('--state established and --reply', () => {
    const est = kpsim([...WEB, '--state', 'established']);
    expect(est.code, est.stderr).toBe(0);
    expect(est.stdout).toContain('traced: a later packet of this connection, ESTABLISHED');
    expect(est.stdout).toContain('-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
    expect(est.stdout).not.toContain('-A KUBE-SERVICES -d 10.96.0.10/32');
    const reply = kpsim([EXAMPLE, '--src', '203.0.113.9', '--dst', 'shop/api:grpc', '--via', 'nodeport', '--reply', '--json']);
    const j = JSON.parse(reply.stdout);
    expect(j.connection).toMatchObject({ state: 'new', reply: true, accepted: '1/1', replies: [{ sourceIP: '10.244.1.9', sourcePort: 9000, destIP: '192.168.10.11', destPort: 40000 }] });
    expect(j.outcomes.map((o: { sourceIP: string; sourcePort: number; destIP: string; destPort: number }) => `${o.sourceIP}:${o.sourcePort} -> ${o.destIP}:${o.destPort}`)).toEqual(['192.168.10.11:30900 -> 203.0.113.9:40000']);
  });

  it.each([
    [[...WEB, '--state', 'bogus'], "--state must be one of new, established, related, invalid, not 'bogus'"],
    [[...WEB, '--reply', '--state', 'related'], '--reply traces the reply of a new or established connection'],
    [[...WEB, '--verbose', '--no-paths'], 'give one of them'],
    [[EXAMPLE, '--flows', 'golden/kpsim/session-affinity-within-timeout/flows.yaml', '--reply'], '--reply is for one packet'],
    [[EXAMPLE, '--flows', 'golden/kpsim/session-affinity-within-timeout/flows.yaml', '--state', 'established'], '--state is for one packet'],
  ])('bad usage exits 2: %j', (args, message) => {
    const r = kpsim(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('the reply of a connection that is never made: exit 1, saying why', () => {
    const r = kpsim([EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.40:9090', '--reply']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('first packet is never accepted');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--flows output is written as it is made: to -o FILE the same bytes as to standard output, in the order of the flows, text and JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpsim-trace-flows-'));
    try {
      const flows = join(dir, 'flows.json');
      writeFileSync(flows, JSON.stringify(Array.from({ length: 40 }, (_, k) => ({ name: `f${k}`, protocol: 'tcp', sourceIP: `10.244.1.${7 + (k % 5)}`, sourcePort: 30000 + k, destIP: k % 3 ? '10.96.0.30' : '10.96.0.40', destPort: 80 }))));
      for (const json of [[], ['--json', '--no-paths']]) {
        const out = join(dir, 'out');
        const toStdout = kpsim([EXAMPLE, '--flows', flows, ...json]);
        expect(toStdout.code, toStdout.stderr).toBe(0);
        const toFile = kpsim([EXAMPLE, '--flows', flows, ...json, '-o', out]);
        expect(toFile.code, toFile.stderr).toBe(0);
        expect(toFile.stdout).toBe('');
        expect(readFileSync(out, 'utf8')).toBe(toStdout.stdout);
        if (json.length) expect(toStdout.stdout.trim().split('\n').map((l) => JSON.parse(l).name)).toEqual(Array.from({ length: 40 }, (_, k) => `f${k}`));
        else expect(toStdout.stdout.match(/^f\d+/gm)).toEqual(Array.from({ length: 40 }, (_, k) => `f${k}`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the README shows real output', () => {
    const readme = readFileSync('README.md', 'utf8');
    const out = kpsim(WEB).stdout;
    // The README's example is abridged; the lines it keeps are printed as shown.
    const block = readme.slice(readme.indexOf('$ npx kpsim trace examples/cluster.yaml --src 10.244.1.7 --dst shop/web:http\n'));
    const shown = block.slice(block.indexOf('\n') + 1, block.indexOf('```')).split('\n').filter((l) => l && !l.includes('...'));
    expect(shown.length).toBeGreaterThan(10);
    for (const l of shown) expect(out.split('\n'), l).toContain(l);
  });
});

describe('kpsim trace --html', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpsim-trace-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the page and still prints the trace; --html - puts the page on standard output', () => {
    const file = join(dir, 'page.html');
    const r = kpsim([...WEB, '--html', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('PROBABILITY');
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('"mode":"iptables"');
    const out = kpsim([...WEB, '--html', '-']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
    // The page alone (the trace's text is inside it, for browsers without scripts).
    expect(out.stdout.endsWith('</html>\n')).toBe(true);
    expect(out.stdout.split('#  PROBABILITY')).toHaveLength(2);
  });

  it.each([
    [['--html', '/nonexistent-kpsim/page.html'], '--html /nonexistent-kpsim/page.html: the folder /nonexistent-kpsim does not exist'],
    [['--html', '.'], '--html .: is a directory; give a file name'],
    [['--html', 'x.html', '--no-paths'], '--html draws the paths, --no-paths has none'],
    [['--html', 'x.html', '--sample', '5'], '--html draws the exact outcomes; --sample draws packets'],
  ])('%j: exit 2, saying why, before any work', (args, message) => {
    const r = kpsim([...WEB, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(existsSync('x.html')).toBe(false);
  });

  it('leaves an existing page alone when the trace fails', () => {
    const file = join(dir, 'keep.html');
    writeFileSync(file, 'keep');
    const r = kpsim([EXAMPLE, '--src', '10.244.1.7', '--dst', '10.96.0.40:9090', '--reply', '--html', file]);
    expect(r.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });
});
