// kpsim trace --html in a real browser: Debian's Chromium (`apt-get install chromium`, which
// .ci/run does), driven by playwright-core; no browser is downloaded. The pages are made by the
// built kpsim command, as a user makes them, and the tests assert on what a person sees: the hook
// lanes and the route through them, the fork's shares, the path of the selected outcome marked,
// the diff at DNAT, the keyboard, outcome words that need no colour, rules linked to their lines,
// and screenshots that are not blank at a desktop and a phone width. Where Chromium is missing the
// tests are skipped, saying so.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = 'dist/bin/kpsim.js';
const NFT_NODE = 'test/fixtures/nft/node-mixed.nft';
const CHROMIUM = process.env.KPSIM_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
if (!CHROMIUM) console.warn('browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, as .ci/run does; or set KPSIM_CHROMIUM)');

let dir = '';
let browser: Browser;

/** Runs kpsim trace with --html into the temporary folder; returns the page's path. */
function page(name: string, args: string[]): string {
  const file = join(dir, `${name}.html`);
  const r = spawnSync(process.execPath, [BIN, 'trace', ...args, '--html', file], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.status, r.stderr).toBe(0);
  return file;
}

interface Opened {
  readonly page: Page;
  readonly errors: string[];
  readonly requests: string[];
}

async function open(file: string, width = 1280, height = 900): Promise<Opened> {
  const p = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  const requests: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  p.on('request', (r) => requests.push(r.url()));
  await p.goto(`file://${file}`);
  await p.waitForSelector('html[data-ready]');
  return { page: p, errors, requests };
}

const texts = (p: Page, sel: string) => p.locator(sel).allInnerTexts();

/** Line n (1-based) of a file, as the page shows it (without its indentation). */
const lineOf = (file: string, n: number) => readFileSync(file, 'utf8').split('\n')[n - 1].trim();

/** Every rule link of the path: its line number and listing, and the text of its step. */
async function links(p: Page, scope = '.path'): Promise<{ listing: string; line: number; text: string }[]> {
  return p.locator(`${scope} li.step a.ln`).evaluateAll((as) =>
    as.map((a) => {
      const m = /^#L(.+)-(\d+)$/.exec(a.getAttribute('href') ?? '')!;
      return { listing: m[1], line: Number(m[2]), text: a.closest('li')!.querySelector('code.rule')!.textContent! };
    }),
  );
}

/** The hook functions a hook's box lists for the selected outcome (name and priority). */
const hookFns = (p: Page, hook: string) => texts(p, `.hookbox[data-hook="${hook}"] .fn`);

describe.skipIf(!CHROMIUM)('the trace page in Chromium', () => {
  let clusterip = '';
  let ipvs = '';
  let flows = '';
  let nft = '';
  let nftDump = '';
  let emptyChain = '';
  let compiled = '';

  beforeAll(async () => {
    if (!existsSync(BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    dir = mkdtempSync(join(tmpdir(), 'kpsim-html-'));
    clusterip = page('clusterip', ['examples/cluster.yaml', '--src', '10.244.1.7', '--dst', 'shop/web:http']);
    ipvs = page('ipvs', ['--mode', 'ipvs', 'examples/cluster.yaml', '--src', '203.0.113.9', '--dst', '10.96.0.10:80']);
    const flowsFile = join(dir, 'flows.yaml');
    writeFileSync(
      flowsFile,
      [
        '- {name: first, sourceIP: 10.1.2.3, sourcePort: 40001, protocol: TCP, destIP: 172.16.0.1, destPort: 80}',
        '- {name: no such port, sourceIP: 10.1.2.3, sourcePort: 40002, protocol: TCP, destIP: 172.16.0.1, destPort: 81}',
        '',
      ].join('\n'),
    );
    flows = page('flows', ['--rules', 'test/fixtures/traces/ten-endpoints.rules', '--node-ip', '192.168.0.2', '--flows', flowsFile]);
    nft = page('nft', ['--mode', 'nftables', 'examples/cluster.yaml', '--src', '10.244.1.7', '--dst', 'shop/web:http']);
    nftDump = page('nft-dump', ['--rules', NFT_NODE, '--node-ip', '192.168.0.2', '--src', '10.0.0.2', '--dst', '172.30.0.41:80']);
    // A node whose filter FORWARD is an empty built-in chain: the packet passes it all the same.
    const rules = join(dir, 'empty-forward.rules');
    writeFileSync(rules, ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', '-A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.5:8080', 'COMMIT', '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', 'COMMIT', ''].join('\n'));
    emptyChain = page('empty-forward', ['--rules', rules, '--node-ip', '192.168.0.2', '--src', '10.1.2.3', '--dst', '10.96.0.1:80']);
    // What `kpsim compile -o DIR` writes for the same cluster: the files the pages' line numbers point into.
    compiled = join(dir, 'compiled');
    mkdirSync(compiled);
    execFileSync(process.execPath, [BIN, 'compile', '--mode', 'nftables', 'examples/cluster.yaml', '-o', join(compiled, 'nftables.txt')], { stdio: 'ignore' });
    execFileSync(process.execPath, [BIN, 'compile', '--mode', 'ipvs', 'examples/cluster.yaml', '-o', join(compiled, 'ipvs')], { stdio: 'ignore' });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws the hook lanes with the route of the selected outcome through them', async () => {
    const { page: p, errors, requests } = await open(clusterip);
    expect(await texts(p, '.hookbox .name')).toEqual(['PREROUTING', 'routing decision', 'FORWARD', 'POSTROUTING', 'INPUT', 'local process', 'OUTPUT']);
    // kube-proxy's mangle table has empty built-in chains: the packet passes them too.
    expect(await p.locator('.route-text').innerText()).toBe('Outcome 1: PREROUTING (mangle, nat) → routing decision → FORWARD (mangle, filter) → POSTROUTING (mangle, nat)');
    expect(await hookFns(p, 'PREROUTING')).toEqual(['mangle -150', 'nat -100']);
    expect(await p.locator('.hookbox.on-route .name').allInnerTexts()).toEqual(['PREROUTING', 'routing decision', 'FORWARD', 'POSTROUTING']);
    expect(await p.locator('.hookbox[data-hook="FORWARD"] .order').innerText()).toBe('3');
    expect(errors).toEqual([]);
    // Self-contained: the page itself is the only thing loaded.
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await p.close();
  });

  it("shows the fork's branches with their exact shares, and highlights the selected outcome's path", async () => {
    const { page: p } = await open(clusterip);
    expect(await p.locator('.fork-head').innerText()).toBe('Fork in nat KUBE-SVC-67NZLRHBNDSAWJRO: -m statistic --mode random, 3 ways');
    expect(await texts(p, '.branch-head .share')).toEqual(['715827883/2^31 (0.3333333335)', '1431655765/2^32 (0.3333333333)', '1431655765/2^32 (0.3333333333)']);
    await p.locator('tr.outcome[data-n="2"] input[type=radio]').check();
    expect(await p.locator('tr.outcome.selected').getAttribute('data-n')).toBe('2');
    const onPath = p.locator('li.branch.on-path > .branch-head');
    expect(await onPath.count()).toBe(1);
    expect(await onPath.innerText()).toContain('rule 3: jump KUBE-SEP-DYSIX5QMVXZZP7LU');
    expect(await onPath.locator('.onpath').innerText()).toBe('◆ on the path of outcome 2');
    // The DNAT to this outcome's endpoint is on the path; the other endpoints' are not.
    const dnat = (ip: string) => p.locator('li.step.k-rule', { hasText: `--to-destination ${ip}:8080` });
    expect(await dnat('10.244.2.7').getAttribute('class')).toContain('on-path');
    expect(await dnat('10.244.1.5').getAttribute('class')).toContain('off-path');
    // Steps every branch shares stay on the path.
    expect(await p.locator('li.step', { hasText: 'kubernetes forwarding rules' }).first().getAttribute('class')).toContain('on-path');
    await p.close();
  });

  it('shows the packet before and after DNAT as a diff, and its state at the focused step', async () => {
    const { page: p } = await open(clusterip);
    const step = p.locator('li.step.k-rule', { hasText: '--to-destination 10.244.1.5:8080' });
    const diff = step.locator('.diff[data-field="destination"]');
    expect(await diff.locator('del').innerText()).toBe('10.96.0.10:80');
    expect(await diff.locator('ins').innerText()).toBe('10.244.1.5:8080');
    await step.click();
    expect(await p.locator('.state-title').innerText()).toBe('Packet at PREROUTING nat KUBE-SEP-34ZZ2QFGO32YYXXO rule 2');
    const dest = p.locator('aside.state dd[data-field="destination"]');
    expect(await dest.locator('del').innerText()).toBe('10.96.0.10:80');
    expect(await dest.locator('ins').innerText()).toBe('10.244.1.5:8080');
    expect(await p.locator('aside.state dd[data-field="source"]').innerText()).toBe('10.244.1.7:40000');
    await p.close();
  });

  it('is driven by the keyboard: digits pick an outcome, arrows walk its path', async () => {
    const { page: p } = await open(clusterip);
    await p.locator('.path li.step.on-path').first().focus();
    await p.keyboard.press('3');
    expect(await p.locator('tr.outcome[data-n="3"] input').isChecked()).toBe(true);
    await p.locator('.path li.step.on-path').first().focus();
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      await p.keyboard.press('ArrowDown');
      seen.push(await p.evaluate(() => (document.activeElement as HTMLElement).className));
    }
    // Every step reached is on outcome 3's path (the other branches are skipped).
    for (const c of seen) expect(c).toMatch(/\bstep\b.*\bon-path\b/);
    expect(await p.evaluate(() => document.activeElement?.textContent ?? '')).not.toContain('10.244.1.5:8080');
    // End: the last step shown (the chain policies and returns are folded away).
    await p.keyboard.press('End');
    expect(await p.evaluate(() => document.activeElement?.textContent ?? '')).toContain('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
    await p.keyboard.press('k');
    expect(await p.locator('.state-title').innerText()).toMatch(/^Packet at POSTROUTING nat/);
    await p.close();
  });

  it('says each outcome in words and marks the path with symbols, so colour is not needed', async () => {
    const { page: p } = await open(clusterip);
    expect(await texts(p, 'tr.outcome .verdict')).toEqual(['✔ ACCEPT, forwarded', '✔ ACCEPT, forwarded', '✔ ACCEPT, forwarded']);
    expect(await p.locator('tr.outcome.selected label').evaluate((el) => getComputedStyle(el, '::after').content)).toBe('" ◆ selected"');
    const marker = (sel: string) => p.locator(sel).first().locator('.marker').evaluate((el) => getComputedStyle(el, '::before').content);
    expect(await marker('li.step.on-path')).toBe('"▶"');
    expect(await marker('li.step.off-path')).toBe('none');
    await p.close();
    // A rejected packet says so.
    const rejected = page('rejected', ['examples/cluster.yaml', '--src', '10.244.1.7', '--dst', '10.96.0.40:9090']);
    const { page: q } = await open(rejected);
    expect(await texts(q, 'tr.outcome .verdict')).toEqual(['✘ REJECT, stopped here']);
    await q.close();
  });

  it('links every rule to its line in the embedded listing of the reached chains, and unfolds the rules that did not match with why', async () => {
    const { page: p } = await open(clusterip);
    await p.locator('li.step a.ln', { hasText: /^112$/ }).click();
    // The listing's texts are unpacked when first shown: the page goes to the line once it is drawn.
    await p.waitForFunction(() => location.hash === '#L4-112');
    const line = p.locator('#L4-112');
    expect(await line.isVisible()).toBe(true);
    expect(await line.locator('code').innerText()).toBe('-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-67NZLRHBNDSAWJRO');
    expect(await p.evaluate(() => location.hash)).toBe('#L4-112');
    // Only the chains a step is in: none of the other Services' chains.
    const chains = await p.locator('.chain').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.chain));
    expect(chains).toContain('nat KUBE-SVC-67NZLRHBNDSAWJRO');
    expect(chains.some((c) => c?.includes('KUBE-SVC-') && c !== 'nat KUBE-SVC-67NZLRHBNDSAWJRO')).toBe(false);
    const fold = p.locator('li.fold', { hasText: '5 rules did not match' });
    await fold.locator('summary').click();
    expect(await fold.locator('.why').first().innerText()).toBe('why not: -d 10.96.0.30/32: 10.96.0.10 is outside');
    await p.close();
  });

  it("draws an IPVS trace: the scheduler's fork and IPVS's work in the INPUT lane", async () => {
    const { page: p, errors } = await open(ipvs);
    expect(errors).toEqual([]);
    expect(await p.locator('.fork-head').innerText()).toBe('Fork in ipvs LOCAL_IN: ipvs:TCP 10.96.0.10:80 rr, 3 ways');
    expect(await texts(p, '.branch-head .share')).toEqual(['1/3 (0.3333333333)', '1/3 (0.3333333333)', '1/3 (0.3333333333)']);
    expect(await p.locator('.route-text').innerText()).toBe('Outcome 1: PREROUTING (nat) → routing decision → INPUT (filter, ipvs) → OUTPUT (filter) → POSTROUTING (nat)');
    const masq = p.locator('li.step', { hasText: '-j MARK --set-xmark 0x4000/0x4000' });
    expect(await masq.locator('.diff[data-field="mark"]').innerText()).toBe('mark 0x0 → 0x4000 bits set 0x4000');
    expect(await hookFns(p, 'INPUT')).toEqual(['filter 0', 'ipvs 98']);
    await p.close();
  });

  it("links each IPVS step to its real server's line in ipvsadm-save, as kpsim compile writes it", async () => {
    const { page: p, errors } = await open(ipvs);
    const save = join(compiled, 'ipvs', 'ipvsadm.save');
    const ipvsLinks = (await links(p)).filter((l) => l.listing === 'ipvs4');
    // One per branch of the scheduler's fork, each to the `-a` line of the server it picked.
    expect(ipvsLinks).toHaveLength(3);
    for (const l of ipvsLinks) {
      const server = / -> (\S+)$/.exec(l.text)![1];
      expect(lineOf(save, l.line)).toBe(`-a -t 10.96.0.10:80 -r ${server} -m -w 1`);
    }
    const first = ipvsLinks[0];
    await p.locator(`li.step a.ln[href="#Lipvs4-${first.line}"]`).first().click();
    await p.waitForFunction((h) => location.hash === h, `#Lipvs4-${first.line}`);
    const line = p.locator(`#Lipvs4-${first.line}`);
    expect(await line.isVisible()).toBe(true);
    expect(await line.locator('code').innerText()).toBe(lineOf(save, first.line));
    // The virtual server's fold opens with its `-A` line, under a heading naming the file.
    expect(await p.locator('section.ruleset[data-kind="ipvs"] h2').innerText()).toBe("IPVS virtual servers: ipvsadm.save, kpsim compile's output, ipvsadm-save spelling");
    expect(await p.locator('details.chain[open] .line code').first().innerText()).toBe('-A -t 10.96.0.10:80 -s rr');
    expect(errors).toEqual([]);
    await p.close();
  });

  it("draws an nftables trace: base chains in their hook lanes by priority, numgen's fork with exact shares, rules linked to nftables.txt", async () => {
    const { page: p, errors } = await open(nft);
    expect(errors).toEqual([]);
    // kube-proxy's base chains, each at its hook with its priority (dstnat - 10 is -110; srcnat 100).
    expect(await p.locator('.route-text').innerText()).toBe(
      'Outcome 1: PREROUTING (ip kube-proxy filter-prerouting-pre-dnat, ip kube-proxy nat-prerouting) → routing decision → FORWARD (ip kube-proxy filter-forward) → POSTROUTING (ip kube-proxy nat-postrouting)',
    );
    expect(await hookFns(p, 'PREROUTING')).toEqual(['ip kube-proxy filter-prerouting-pre-dnat -110', 'ip kube-proxy nat-prerouting -100']);
    expect(await hookFns(p, 'POSTROUTING')).toEqual(['ip kube-proxy nat-postrouting 100']);
    expect((await texts(p, '.path li.lane')).slice(0, 2)).toEqual(['PREROUTING ip kube-proxy filter-prerouting-pre-dnat priority -110', 'PREROUTING ip kube-proxy nat-prerouting priority -100']);
    // numgen random mod 3: reciprocal_scale's exact shares.
    expect(await p.locator('.fork-head').innerText()).toBe('Fork in ip kube-proxy service-KHN6ECMT-shop/web/tcp/http: numgen random mod 3, 3 ways');
    expect(await texts(p, '.branch-head .share')).toEqual(['715827883/2^31 (0.3333333335)', '1431655765/2^32 (0.3333333333)', '1431655765/2^32 (0.3333333333)']);
    // The selected outcome's path: its endpoint's DNAT on it, the others dimmed.
    await p.locator('tr.outcome[data-n="2"] input[type=radio]').check();
    const to = (await p.locator('tr.outcome[data-n="2"] td code').innerText()).split(' → ')[1];
    const onPath = p.locator('li.branch.on-path > .branch-head');
    expect(await onPath.count()).toBe(1);
    expect(await onPath.locator('.label').innerText()).toContain(`__${to.replace(':', '/')}`);
    const dnat = (x: string) => p.locator('li.step.k-rule', { hasText: `dnat to ${x}` });
    expect(await dnat(to).getAttribute('class')).toContain('on-path');
    expect(await dnat('10.244.1.5:8080').getAttribute('class')).toContain('off-path');
    // The packet before and after the nat statement.
    const diff = dnat('10.244.1.5:8080').locator('.diff[data-field="destination"]');
    expect([await diff.locator('del').innerText(), await diff.locator('ins').innerText()]).toEqual(['10.96.0.10:80', '10.244.1.5:8080']);
    // Every rule links to its line in the nft listing kpsim compile writes, in that listing's words.
    const nftLinks = await links(p);
    expect(nftLinks.length).toBeGreaterThan(8);
    for (const l of nftLinks) {
      expect(l.listing).toBe('nftables4');
      expect(l.text).toBe(lineOf(join(compiled, 'nftables.txt'), l.line));
    }
    const services = nftLinks.find((l) => l.text === 'jump services')!;
    await p.locator(`li.step a.ln[href="#Lnftables4-${services.line}"]`).click();
    await p.waitForFunction((h) => location.hash === h, `#Lnftables4-${services.line}`);
    expect(await p.locator(`#Lnftables4-${services.line} code`).innerText()).toBe('jump services');
    expect(await p.locator('section.ruleset h2').innerText()).toBe("nftables ruleset: nftables.txt, kpsim compile's output, nft list spelling");
    expect(await p.locator('details.chain[open] > summary').innerText()).toBe('chain nat-prerouting (1 rule)');
    await p.close();
  });

  it("draws an nftables dump (trace --rules node.nft): every table's base chains by hook and priority, each rule at its line in the dump", async () => {
    const { page: p, errors } = await open(nftDump);
    expect(errors).toEqual([]);
    const prerouting = await hookFns(p, 'PREROUTING');
    const priorities = prerouting.map((f) => Number(f.split(' ').at(-1)));
    expect(priorities).toEqual([...priorities].sort((a, b) => a - b));
    expect(prerouting).toEqual(expect.arrayContaining(['ip raw PREROUTING -300', 'ip mangle PREROUTING -150', 'ip kube-proxy nat-prerouting -100']));
    // Calico's mangle FORWARD is an empty base chain: the packet passes it, its hook says so.
    expect(await hookFns(p, 'FORWARD')).toContain('ip mangle FORWARD -150');
    // numgen with one endpoint takes it whole; Calico's xt match set (not modelled) is traced both ways.
    expect(await p.locator('.fork-head').innerText()).toMatch(/^Fork in ip nat cali-nat-outgoing: xt match set .*, traced both ways$/);
    expect(await texts(p, '.branch-head .share')).toEqual(['if', 'if']);
    const dumpLinks = await links(p);
    expect(dumpLinks.length).toBeGreaterThan(10);
    for (const l of dumpLinks) {
      expect(l.listing).toBe('nftables4');
      expect(l.text.replace(/\s+/g, ' ')).toBe(lineOf(NFT_NODE, l.line).replace(/\s+/g, ' '));
    }
    expect(await p.locator('section.ruleset h2').innerText()).toBe(`nftables ruleset: ${NFT_NODE}`);
    await p.close();
  });

  it('draws a long chain of the listing a block at a time: the block of a linked line, the others as they come into view', async () => {
    // 1000 services' rules in one chain; the packet's is the 900th.
    const ip = (i: number) => `10.96.${i >> 8}.${i & 255}`;
    const rules = join(dir, 'long-chain.rules');
    const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', '-A PREROUTING -j KUBE-SERVICES'];
    for (let i = 1; i <= 1000; i++) lines.push(`-A KUBE-SERVICES -d ${ip(i)}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.0.5:8080`);
    writeFileSync(rules, [...lines, 'COMMIT', ''].join('\n'));
    const file = page('long-chain', ['--rules', rules, '--node-ip', '192.168.0.2', '--src', '10.1.2.3', '--dst', `${ip(900)}:80`]);
    const { page: p, errors } = await open(file);
    const dnat = p.locator('li.step.k-rule a.ln', { hasText: /^\d+$/ }).last();
    const n = Number(await dnat.innerText());
    expect(lineOf(rules, n)).toContain(`-d ${ip(900)}/32`);
    await dnat.click();
    await p.waitForFunction((h) => location.hash === h, `#L4-${n}`);
    expect(await p.locator(`#L4-${n} code`).innerText()).toBe(lineOf(rules, n));
    expect(await p.locator(`#L4-${n}`).isVisible()).toBe(true);
    const chain = p.locator('details.chain[data-chain="nat KUBE-SERVICES"]');
    expect(await chain.locator('summary').innerText()).toBe('KUBE-SERVICES (1000 rules)');
    // Five blocks of 200: the linked line's is drawn, the second (thousands of pixels away) not yet.
    const blocks = chain.locator('.block');
    expect(await blocks.count()).toBe(5);
    expect(await blocks.nth(4).getAttribute('data-drawn')).toBe('1');
    expect(await blocks.nth(1).getAttribute('data-drawn')).toBeNull();
    expect(await blocks.nth(1).locator('.line').count()).toBe(0);
    await blocks.nth(1).scrollIntoViewIfNeeded();
    await p.waitForFunction(() => document.querySelectorAll('details.chain[data-chain="nat KUBE-SERVICES"] .block')[1].getAttribute('data-drawn') === '1');
    const second = blocks.nth(1).locator('.line');
    expect(await second.count()).toBe(200);
    const first = Number(await second.first().locator('a.ln').innerText());
    expect(await second.first().locator('code').innerText()).toBe(lineOf(rules, first));
    expect(lineOf(rules, first)).toContain(`-d ${ip(201)}/32`);
    expect(errors).toEqual([]);
    await p.close();
  });

  it('names the table of an empty built-in chain in its hook (the packet passes it; its policy accepts)', async () => {
    const { page: p, errors } = await open(emptyChain);
    expect(errors).toEqual([]);
    expect(await p.locator('.route-text').innerText()).toBe('Outcome 1: PREROUTING (nat) → routing decision → FORWARD (filter) → POSTROUTING (nat)');
    expect(await hookFns(p, 'FORWARD')).toEqual(['filter 0']);
    // In the path: FORWARD filter, its policy folded, linked to its declaration line.
    expect(await texts(p, '.path li.lane')).toContain('FORWARD filter priority 0');
    const fold = p.locator('li.fold', { hasText: "FORWARD's policy ACCEPT" });
    await fold.locator('summary').click();
    const step = fold.locator('li.step.k-policy');
    expect(await step.locator('a.ln').innerText()).toBe('10');
    expect(await step.locator('code.rule').textContent()).toBe(':FORWARD ACCEPT [0:0]  (end of FORWARD: its policy)');
    await p.close();
  });

  it('--flows from a dump: a summary table on top, one section per flow, lines in the dump', async () => {
    const { page: p, errors } = await open(flows);
    expect(errors).toEqual([]);
    expect(await p.locator('section.summary h2').innerText()).toBe('2 flows');
    expect(await texts(p, 'section.summary tbody td:first-child')).toEqual(['first', 'no such port']);
    expect(await p.locator('section.trace').count()).toBe(2);
    expect(await p.locator('section.ruleset h2').innerText()).toBe('Ruleset: test/fixtures/traces/ten-endpoints.rules');
    expect(await texts(p, '#trace-1 .branch-head .share')).toHaveLength(10);
    await p.locator('section.summary a', { hasText: 'no such port' }).click();
    expect(await p.evaluate(() => location.hash)).toBe('#trace-2');
    await p.close();
  });

  it('--flows from IPVS dumps: persistence in words in the INPUT lane', async () => {
    const g = 'golden/kpsim-ipvs/session-affinity';
    const file = page('ipvs-dumps', ['--mode', 'ipvs', '--rules', `${g}/iptables.save`, '--ipvs', `${g}/ipvsadm.save`, '--ipsets', `${g}/ipset.save`, '--node-ip', '192.168.10.11', '--flows', `${g}/flows.yaml`]);
    const { page: p, errors } = await open(file);
    expect(errors).toEqual([]);
    expect(await p.locator('section.summary h2').innerText()).toBe('4 flows');
    const third = p.locator('#trace-3');
    expect(await third.locator('.route-text').innerText()).toBe('Outcome 1: PREROUTING (nat) → routing decision → INPUT (filter, ipvs) → OUTPUT (filter) → POSTROUTING (nat)');
    const ipvsStep = third.locator('li.step.k-extension');
    expect(await ipvsStep.locator('code.rule').innerText()).toBe('ipvs:TCP 10.96.0.20:9000 rr -> 10.244.1.5:9000 (persistent)');
    expect(await ipvsStep.locator('.words').innerText()).toBe('sticks to 10.244.1.5:9000 for 600 s (IPVS persistence of 10.96.0.20:9000)');
    // Linked to the real server's line in the dump given with --ipvs.
    const [link] = (await links(p, '#trace-3 .path')).filter((l) => l.listing !== '4');
    expect(link.listing).toBe('ipvs4');
    expect(lineOf(`${g}/ipvsadm.save`, link.line)).toBe('-a -t 10.96.0.20:9000 -r 10.244.1.5:9000 -m -w 1');
    expect(await p.locator('section.ruleset[data-kind="ipvs"] h2').innerText()).toBe(`IPVS virtual servers: ${g}/ipvsadm.save`);
    await p.close();
  });

  it('shows the outcome table at a phone width as labelled rows, nothing scrolling sideways, for every kind of page', async () => {
    for (const file of [clusterip, nft, flows]) {
      const { page: p } = await open(file, 390, 844);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), file).toBeLessThanOrEqual(390);
      for (const box of await p.locator('fieldset.outcomes .scroll, section.summary .scroll').all()) {
        const [scroll, client] = await box.evaluate((el) => [el.scrollWidth, el.clientWidth]);
        expect(scroll, file).toBeLessThanOrEqual(client);
      }
      // Every cell of every outcome inside the table's box, and labelled (the column headings are hidden).
      const table = await p.locator('fieldset.outcomes').first().boundingBox();
      for (const cell of await p.locator('tr.outcome td').all()) {
        const b = (await cell.boundingBox())!;
        expect(b.x).toBeGreaterThanOrEqual(table!.x);
        expect(b.x + b.width).toBeLessThanOrEqual(table!.x + table!.width);
      }
      const label = await p.locator('tr.outcome td.num').first().evaluate((el) => getComputedStyle(el, '::before').content);
      expect(label).toContain('probability');
      expect(await p.locator('tr.outcome[data-n="1"] td[data-label="packet after NAT"] code').first().isVisible()).toBe(true);
      await p.close();
    }
  });

  it('renders non-blank at a desktop and a phone width, without sideways scrolling on the phone', async () => {
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ]) {
      const { page: p } = await open(clusterip, width, height);
      const png = PNG.sync.read(await p.screenshot());
      let ink = 0;
      const colours = new Set<number>();
      for (let i = 0; i < png.data.length; i += 4) {
        const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
        if (r + g + b < 720) ink++;
        colours.add((r << 16) | (g << 8) | b);
      }
      const share = ink / (png.width * png.height);
      expect(share, `${width}px: ink on ${(share * 100).toFixed(1)}% of the pixels`).toBeGreaterThan(0.03);
      expect(colours.size, `${width}px`).toBeGreaterThan(20);
      expect(await p.evaluate(() => document.documentElement.scrollWidth), `${width}px`).toBeLessThanOrEqual(width);
      await p.close();
    }
  });
});
