// The nftables reader against the kernel: every ruleset of the kube-proxy corpus is loaded with
// `nft -f` into a throwaway namespace (in the order the corpus README says nft needs), listed with
// `nft list ruleset`, and kpsim must read the kernel's listing without a problem and render it
// back byte for byte. Every fixture in test/fixtures/nft is what the kernel prints for its recipe
// (below): loaded and listed again it must come back byte for byte, and read and re-render so.
// `KPSIM_UPDATE_NFT_FIXTURES=1 npx vitest run test/kernel/nft-roundtrip.test.ts` rewrites the
// fixtures from the kernel, which is how they were made (README in that folder).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelAvailable } from '../host/kernel-available.js';
import { createNfacct, restoreIpsets, restoreRules } from '../host/iptables.js';
import { withNamespace, type Namespace } from '../host/netns.js';
import { applyNft, emptyNftState, parseNft, renderNft } from '../../src/nftables/index.js';
import { corpusRulesets, FIXTURES, GOLDEN, inputs, keptLayout, loadOrder, ROOT, stateVersusListing } from '../nftables/corpus.js';

const UPDATE = process.env.KPSIM_UPDATE_NFT_FIXTURES === '1';
const kernel = kernelAvailable();
const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
const nftOk = nft.status === 0;
if (!kernel.ok) console.warn(`nft kernel tests not run: ${kernel.reason}`);
else if (!nftOk) console.warn('nft kernel tests not run: the nft program is missing (apt-get install -y nftables)');
const run = kernel.ok && nftOk;

const TMP = mkdtempSync(join(tmpdir(), 'kpsim-nft-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** One step of a fixture's recipe, run in order in one namespace. */
type Step =
  | { readonly nft: string; readonly reorder?: boolean }
  | { readonly iptables: string; readonly ipsets?: string; readonly nfacct?: readonly string[] };

interface Recipe {
  readonly fixture: string;
  readonly steps: readonly Step[];
  /** `nft -a` (handles) or not. */
  readonly handles?: boolean;
}

const DUMPS = join(ROOT, 'test/fixtures/dumps');
const OVERALL = { nft: join(GOLDEN, 'overall-nftables-rules/nft.txt'), reorder: true };
const V6 = { nft: join(GOLDEN, 'trace-packet-v6/nft.txt'), reorder: true };
const KUBE_PROXY_NFACCT = ['ct_state_invalid_dropped_pkts', 'localhost_nps_accepted_pkts'];

const RECIPES: readonly Recipe[] = [
  // nft's own listings, which load back as they are.
  { fixture: 'calico.nft', steps: [{ nft: join(FIXTURES, 'calico.nft') }] },
  { fixture: 'docker-29.nft', steps: [{ nft: join(FIXTURES, 'docker-29.nft') }] },
  { fixture: 'firewalld.nft', steps: [{ nft: join(FIXTURES, 'firewalld.nft') }] },
  { fixture: 'features.nft', steps: [{ nft: join(FIXTURES, 'features.nft') }] },
  // kube-proxy's tables as a node shows them (both families), also with handles.
  { fixture: 'kube-proxy.nft', steps: [OVERALL, V6] },
  { fixture: 'kube-proxy-handles.nft', steps: [OVERALL, V6], handles: true },
  // iptables-nft's tables: loaded by iptables-nft-restore, listed by nft (with its warnings).
  { fixture: 'iptables-nft-kube-proxy.nft', steps: [{ iptables: join(DUMPS, 'kube-proxy-iptables-v1.31.iptables'), nfacct: KUBE_PROXY_NFACCT }] },
  { fixture: 'iptables-nft-calico.nft', steps: [{ iptables: join(DUMPS, 'calico-v3.27.iptables'), ipsets: join(DUMPS, 'calico-v3.27.ipsets') }] },
  // One node: kube-proxy in nftables mode, Calico in iptables-nft, Docker 29's nftables tables.
  {
    fixture: 'node-mixed.nft',
    steps: [{ iptables: join(DUMPS, 'calico-v3.27.iptables'), ipsets: join(DUMPS, 'calico-v3.27.ipsets') }, OVERALL, { nft: join(FIXTURES, 'docker-29.nft') }],
  },
];

async function nftLoad(ns: Namespace, text: string): Promise<void> {
  const r = await ns.run('nft', ['-f', '-'], { stdin: text });
  if (r.code !== 0) throw new Error(`nft -f failed: ${r.stderr}`);
}

/**
 * `nft list ruleset` with its standard error in the same stream, in the order nft writes them (as
 * `nft list ruleset > file 2>&1` would): iptables-nft's tables come with a warning line each.
 */
function listRuleset(ns: Namespace, handles: boolean): string {
  const path = join(TMP, `${ns.name}.list`);
  const fd = openSync(path, 'w');
  try {
    const args = ['netns', 'exec', ns.name, 'nft', ...(handles ? ['-a'] : []), 'list', 'ruleset'];
    const r = spawnSync('ip', args, { stdio: ['ignore', fd, fd], timeout: 60_000 });
    if (r.status !== 0) throw new Error(`nft list ruleset failed: ${readFileSync(path, 'utf8')}`);
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8');
}

async function cook(ns: Namespace, recipe: Recipe): Promise<string> {
  for (const step of recipe.steps) {
    if ('nft' in step) {
      const text = readFileSync(step.nft, 'utf8');
      await nftLoad(ns, step.reorder ? loadOrder(text) : text);
    } else {
      if (step.ipsets) await restoreIpsets(ns, readFileSync(step.ipsets, 'utf8'));
      if (step.nfacct) await createNfacct(ns, step.nfacct);
      const r = await restoreRules(ns, 'iptables', readFileSync(step.iptables, 'utf8'));
      if (r.code !== 0) throw new Error(`iptables-restore failed: ${r.stderr}`);
    }
  }
  return listRuleset(ns, recipe.handles ?? false);
}

/** The kernel's listing reads without errors and renders back byte for byte. */
function expectReadsBack(name: string, listing: string): void {
  const { file, diagnostics } = parseNft(listing, { file: name });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(renderNft(file)).toBe(listing);
  expect(keptLayout(file).raw).toBe(0);
}

describe.runIf(run)('kube-proxy corpus rulesets, loaded and listed by the kernel', () => {
  it.each(corpusRulesets().map((f) => [f.name, f] as const))('%s', async (name, f) => {
    await withNamespace(async (ns) => {
      await nftLoad(ns, loadOrder(f.text));
      const listing = listRuleset(ns, false);
      expect(listing).toMatch(/^table ip6? kube-proxy \{\n/);
      expectReadsBack(`${name} (kernel listing)`, listing);
      // Listings are canonical nft text: the IR keeps no layout of them.
      expect(keptLayout(parseNft(listing, { file: name }).file)).toEqual({ raw: 0, layout: 0, gaps: 0 });
      // kpsim's state of the same load has the kernel's chains, rules, handles and priorities.
      const state = emptyNftState();
      expect(applyNft(state, parseNft(loadOrder(f.text), { file: name }).file, name)).toEqual([]);
      stateVersusListing(state, listRuleset(ns, true));
    });
  });

  it.each(corpusRulesets().map((f) => [f.name, f] as const))('%s verbatim: nft refuses it exactly when kpsim reports a problem', async (name, f) => {
    await withNamespace(async (ns) => {
      const check = await ns.run('nft', ['-c', '-f', '-'], { stdin: f.text });
      const problems = applyNft(emptyNftState(), parseNft(f.text, { file: name }).file, name);
      expect(problems.length > 0, `nft -c: ${check.stderr}`).toBe(check.code !== 0);
      if (check.code !== 0) expect(check.stderr).toContain('No such file or directory');
    });
  });
});

describe.runIf(run)('fixtures are what the kernel lists for their recipes', () => {
  it.each(RECIPES.map((r) => [r.fixture, r] as const))('%s', async (_name, recipe) => {
    const path = join(FIXTURES, recipe.fixture);
    await withNamespace(async (ns) => {
      const listing = await cook(ns, recipe);
      if (UPDATE) writeFileSync(path, listing);
      expect(listing).toBe(readFileSync(path, 'utf8'));
      expectReadsBack(recipe.fixture, listing);
      // nft text only (iptables-nft's tables are made by iptables): kpsim's state of the same
      // steps has the kernel's chains, rules and handles.
      if (recipe.steps.every((st) => 'nft' in st)) {
        const state = emptyNftState();
        for (const st of recipe.steps as { nft: string; reorder?: boolean }[]) {
          const text = readFileSync(st.nft, 'utf8');
          expect(applyNft(state, parseNft(st.reorder ? loadOrder(text) : text, { file: st.nft }).file, st.nft)).toEqual([]);
        }
        stateVersusListing(state, listRuleset(ns, true));
      }
    });
  });
});

describe.runIf(run)('nft -f inputs are nft: the kernel takes them as they are', () => {
  it.each(inputs().map((f) => [f.name, f] as const))('%s', async (_name, f) => {
    await withNamespace(async (ns) => {
      await nftLoad(ns, f.text);
      const listing = listRuleset(ns, true);
      expectReadsBack(`${f.name} (kernel listing)`, listing);
      const state = emptyNftState();
      expect(applyNft(state, parseNft(f.text, { file: f.name }).file, f.name)).toEqual([]);
      stateVersusListing(state, listing);
    });
  });
});
