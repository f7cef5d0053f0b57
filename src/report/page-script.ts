/// <reference lib="dom" />
// The trace page's script: draws page-data.ts's data in the browser (html.ts embeds this function's
// source; it runs there, so it reads nothing from this module's scope: every helper is inside it).
// What a person sees: per traced packet, the outcome table (each outcome a radio button, labelled
// in words), the hook lanes with the selected outcome's route through them, the path as one tree
// (forks as branches with their exact shares; the selected outcome's path marked ▶ and the rest
// dimmed), each rule linked to its line in the listing of the reached chains, the rules that did
// not match folded per run (with why), and the packet's state at the focused step with what the
// step changed shown as a diff. Keys: ↑/↓ (or k/j) walk the selected path, 1-9 pick an outcome.
import type { BranchData, ChainData, OutcomeData, PageListing, PageView, SegmentData, StepData, TraceData } from './page-data.js';
import type { Change, PacketView } from './model.js';

export function pageScript(data: PageView): void {
  type Kid = Node | string | null | undefined | false;
  function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | null | undefined> | null, ...kids: Kid[]): HTMLElementTagNameMap[K] {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
    for (const kid of kids) if (kid !== null && kid !== undefined && kid !== false) el.append(kid);
    return el;
  }
  const HOOKS: readonly { hook: string; label: string; area: string }[] = [
    { hook: 'PREROUTING', label: 'PREROUTING', area: 'pre' },
    { hook: 'routing', label: 'routing decision', area: 'route' },
    { hook: 'FORWARD', label: 'FORWARD', area: 'fwd' },
    { hook: 'POSTROUTING', label: 'POSTROUTING', area: 'post' },
    { hook: 'INPUT', label: 'INPUT', area: 'in' },
    { hook: 'local', label: 'local process', area: 'local' },
    { hook: 'OUTPUT', label: 'OUTPUT', area: 'out' },
  ];
  const hookLabel = (hook: string) => HOOKS.find((x) => x.hook === hook)?.label ?? hook;
  const FIELDS: readonly [keyof PacketView, string][] = [
    ['protocol', 'protocol'],
    ['source', 'source'],
    ['destination', 'destination'],
    ['mark', 'mark'],
    ['inInterface', 'in interface'],
    ['outInterface', 'out interface'],
    ['ctState', 'conntrack state'],
    ['ctMark', 'connection mark'],
    ['direction', 'direction'],
  ];
  const CHANGE_NAMES = data.fieldNames;
  const hostPort = (t: TraceData, ip: string, port: number | null) => (port === null ? ip : t.family === 'ipv6' ? `[${ip}]:${port}` : `${ip}:${port}`);
  const flow = (t: TraceData, v: PacketView) => `${hostPort(t, v.source, v.sourcePort)} → ${hostPort(t, v.destination, v.destinationPort)}`;
  const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;
  const lineId = (listing: string, line: number) => `L${listing}-${line}`;
  const listingOf = (id: string): PageListing | undefined => data.listings.find((l) => l.id === id);
  const prioText = (p: number | null) => (p === null ? '' : `priority ${p}`);
  const verdictClass = (o: OutcomeData) => `v-${o.verdict.toLowerCase()}`;
  const verdictGlyph = (o: OutcomeData) => (o.verdict === 'ACCEPT' ? '✔' : o.verdict === 'UNKNOWN' ? '?' : '✘');
  const shareText = (p: { decimal: string; exact: string | null }) => (p.exact === null || p.exact === p.decimal ? p.decimal : `${p.exact} (${p.decimal})`);
  const outcomeList = (ns: readonly number[]) => (ns.length === 1 ? `outcome ${ns[0]}` : `outcomes ${ns.join(', ')}`);

  /** A change as a diff; marks also say which bits were set and cleared. */
  function diff(c: Change, named = true): HTMLElement {
    const bits: Kid[] = [];
    if (c.field === 'mark' || c.field === 'ctMark') {
      const a = Number(c.from);
      const b = Number(c.to);
      const set = (b & ~a) >>> 0;
      const cleared = (a & ~b) >>> 0;
      bits.push(h('span', { class: 'bits' }, [set ? `bits set ${hex(set)}` : '', cleared ? `bits cleared ${hex(cleared)}` : ''].filter(Boolean).join(', ')));
    }
    return h('div', { class: 'diff', 'data-field': c.field }, named ? h('span', { class: 'field' }, CHANGE_NAMES[c.field]) : null, named ? ' ' : null, h('del', null, c.from), h('span', { class: 'arrow' }, ' → '), h('ins', null, c.to), bits.length ? ' ' : null, ...bits);
  }

  function stepEl(t: TraceData, s: StepData, outs: readonly number[]): HTMLLIElement {
    const kids: Kid[] = [h('span', { class: 'marker', 'aria-hidden': 'true' })];
    if (s.line !== null && s.listing !== null) kids.push(h('a', { class: 'ln', href: `#${lineId(s.listing, s.line)}`, title: `line ${s.line} of ${listingOf(s.listing)?.file ?? 'the ruleset'}` }, String(s.line)));
    else kids.push(h('span', { class: 'ln' }, ''));
    let text = s.text;
    if (s.kind === 'policy') text = `${s.text}  (end of ${s.chain}: its policy)`;
    if (s.kind === 'return') text = `(end of ${s.chain}: back to the chain that jumped here)`;
    const label = s.kind === 'nomatch' ? 'did not match' : s.kind === 'rule' ? 'matched' : s.kind === 'extension' ? s.table : s.kind;
    kids.push(h('span', { class: 'kind' }, label), h('code', { class: 'rule' }, text));
    if (s.why) kids.push(h('div', { class: 'why' }, `why not: ${s.why}`));
    if (s.words) kids.push(h('div', { class: 'words' }, s.words));
    for (const c of s.changes) kids.push(diff(c));
    const li = h('li', { class: `step k-${s.kind}`, tabindex: '-1', 'data-outcomes': outs.join(' '), 'data-hook': s.hook }, ...kids);
    stepOf.set(li, { t, s });
    return li;
  }
  const stepOf = new WeakMap<Element, { t: TraceData; s: StepData }>();

  /** Shown unfolded: what the packet met (as the text report without --verbose); the rest folds. */
  const shown = (s: StepData) => s.kind === 'rule' || s.kind === 'extension' || s.kind === 'conntrack' || s.kind === 'route' || (s.kind === 'policy' && s.action === 'policy DROP');
  function foldText(items: readonly StepData[]): string {
    const missed = items.filter((s) => s.kind === 'nomatch').length;
    const parts = missed ? [`${missed} rule${missed === 1 ? '' : 's'} did not match`] : [];
    const last = items[items.length - 1];
    if (last.kind === 'return') parts.push(`back from ${last.chain} to the chain that jumped there`);
    else if (last.kind === 'policy') parts.push(`${last.chain}'s policy ${last.action.replace('policy ', '')}`);
    return parts.join('; ');
  }

  /** Steps of one segment into `ol`; what the packet only passed by (rules that did not match, returns) folds into runs. */
  function steps(t: TraceData, list: readonly StepData[], outs: readonly number[], ol: HTMLElement, place: { at: string }): void {
    let run: StepData[] = [];
    const flush = () => {
      if (!run.length) return;
      const items = run;
      const body = h('ol', { class: 'steps' });
      const det = h('details', { class: 'missed' }, h('summary', null, foldText(items)), body);
      det.addEventListener('toggle', () => {
        if (det.open && !body.childElementCount) for (const s of items) body.append(stepEl(t, s, outs));
      });
      ol.append(h('li', { class: 'fold', 'data-outcomes': outs.join(' ') }, det));
      run = [];
    };
    for (const s of list) {
      const here = `${s.hook} ${s.fn}`;
      if (s.kind !== 'route' && s.kind !== 'conntrack' && here !== place.at) {
        flush();
        ol.append(h('li', { class: 'lane', 'data-outcomes': outs.join(' '), 'data-hook': s.hook }, h('span', { class: 'hook' }, hookLabel(s.hook)), ' ', h('span', { class: 'table' }, s.fn), s.priority === null ? null : h('span', { class: 'prio' }, ` ${prioText(s.priority)}`)));
        place.at = here;
      }
      if (!shown(s)) {
        run.push(s);
        if (s.kind === 'return' || s.kind === 'policy') flush();
      } else {
        flush();
        ol.append(stepEl(t, s, outs));
      }
    }
    flush();
  }

  function endEl(t: TraceData, ns: readonly number[]): HTMLLIElement {
    const os = ns.map((n) => t.outcomes[n - 1]);
    const same = os.every((o) => o.words === os[0].words);
    return h('li', { class: `end ${same ? verdictClass(os[0]) : ''}`, 'data-outcomes': ns.join(' ') }, `⇒ ${outcomeList(ns)}${same ? ` (${os[0].words}${os.length > 1 ? ', each' : ''})` : ''}`);
  }

  function segment(t: TraceData, seg: SegmentData, ol: HTMLElement, place: { at: string }): void {
    steps(t, seg.steps, seg.outcomes, ol, place);
    if (seg.fork) {
      const f = seg.fork;
      const n = f.branches.length;
      const where = f.chain ? ` in ${f.table} ${f.chain}` : '';
      const ways = f.kind === 'unknown' ? 'traced both ways' : `${n} way${n === 1 ? '' : 's'}`;
      const branches = h('ol', { class: 'branches' });
      const li = h('li', { class: `fork f-${f.kind}`, 'data-outcomes': seg.outcomes.join(' ') }, h('div', { class: 'fork-head' }, `Fork${where}: ${f.what}, ${ways}`), branches);
      ol.append(li);
      const at = place.at;
      f.branches.forEach((b) => branches.append(branch(t, b, at)));
      if (f.tail.length) {
        ol.append(h('li', { class: 'then', 'data-outcomes': seg.outcomes.join(' ') }, 'then, on every branch:'));
        place.at = '';
        steps(t, f.tail, seg.outcomes, ol, place);
        if (f.tailEnds.length) ol.append(endEl(t, f.tailEnds));
      }
    }
    if (seg.ends.length && !seg.fork) ol.append(endEl(t, seg.ends));
  }

  function branch(t: TraceData, b: BranchData, at: string): HTMLLIElement {
    const share = b.share ? shareText(b.share) : 'if';
    const bar = b.share ? h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.max(1, Math.round(b.share.ratio * 100))}%` })) : null;
    const ol = h('ol', { class: 'steps' });
    const head = h(
      'div',
      { class: 'branch-head' },
      h('span', { class: 'share' }, share),
      bar,
      ' ',
      h('span', { class: 'label' }, b.label),
      ' ',
      h('span', { class: 'to' }, `→ ${outcomeList(b.outcomes)}`),
      ' ',
      h('span', { class: 'onpath' }),
    );
    const li = h('li', { class: 'branch', 'data-outcomes': b.outcomes.join(' ') }, head, b.packet ? h('div', { class: 'packet' }, `packet: ${b.packet.protocol} ${flow(t, b.packet)}`) : null, ol);
    segment(t, b.segment, ol, { at });
    return li;
  }

  function lanes(sec: HTMLElement): HTMLElement {
    const grid = h('div', { class: 'lanes' });
    for (const x of HOOKS) grid.append(h('div', { class: `hookbox a-${x.area}`, 'data-hook': x.hook }, h('span', { class: 'name' }, x.label), h('span', { class: 'order' }), h('span', { class: 'tables' })));
    sec.dataset.lanes = '1';
    return h('div', { class: 'route' }, h('h3', null, 'Route through the hooks'), h('p', { class: 'route-text' }), grid);
  }

  function showRoute(sec: HTMLElement, t: TraceData, o: OutcomeData): void {
    const text = sec.querySelector('.route-text');
    if (text) text.textContent = `Outcome ${o.number}: ${o.route.map((x) => `${hookLabel(x.hook)}${x.tables.length ? ` (${x.tables.join(', ')})` : ''}`).join(' → ')}${o.delivery === 'local' ? ' → local process' : ''}`;
    for (const box of sec.querySelectorAll<HTMLElement>('.hookbox')) {
      const hook = box.dataset.hook ?? '';
      const at = o.route.map((x, i) => (x.hook === hook ? i + 1 : 0)).filter((i) => i > 0);
      const local = hook === 'local' && (o.delivery === 'local' || t.origin === 'local');
      box.classList.toggle('on-route', at.length > 0 || local);
      box.querySelector('.order')!.textContent = at.length ? at.join(', ') : local ? (t.origin === 'local' ? 'start' : 'end') : '';
      // The hook functions that ran there, in the order they ran, each with its priority.
      const fns = new Map<string, number | null>();
      for (const x of o.route) if (x.hook === hook) x.tables.forEach((name, i) => fns.has(name) || fns.set(name, x.priorities[i]));
      box.querySelector('.tables')!.replaceChildren(...[...fns].map(([name, p]) => h('span', { class: 'fn' }, h('span', { class: 'fn-name' }, name), p === null ? null : h('span', { class: 'prio' }, ` ${p}`))));
    }
  }

  function showState(sec: HTMLElement, t: TraceData, s: StepData | null): void {
    const panel = sec.querySelector<HTMLElement>('.state');
    if (!panel) return;
    const dl = h('dl', null);
    const v = s?.state ?? null;
    const title = panel.querySelector('.state-title')!;
    if (!s || !v) {
      title.textContent = s ? 'This step records no packet state' : 'Select a step to see the packet there';
      panel.querySelector('dl')?.replaceWith(dl);
      return;
    }
    title.textContent = `Packet at ${s.kind === 'route' ? 'the routing decision' : s.kind === 'conntrack' ? "conntrack's rewrite" : `${hookLabel(s.hook)} ${s.table}${s.num !== null ? ` ${s.chain} rule ${s.num}` : ''}`}`;
    const changed = new Map(s.changes.map((c) => [c.field, c] as const));
    for (const [k, label] of FIELDS) {
      let value: string;
      if (k === 'source') value = hostPort(t, v.source, v.sourcePort);
      else if (k === 'destination') value = hostPort(t, v.destination, v.destinationPort);
      else if (k === 'mark' || k === 'ctMark') value = v[k] === null ? '-' : hex(v[k] as number);
      else value = v[k] === null ? 'none' : String(v[k]);
      const c = changed.get(k as Change['field']);
      dl.append(h('dt', null, label), h('dd', { 'data-field': k }, c ? diff(c, false) : value));
    }
    panel.querySelector('dl')?.replaceWith(dl);
  }

  function select(sec: HTMLElement, t: TraceData, n: number): void {
    const o = t.outcomes[n - 1];
    if (!o) return;
    sec.dataset.selected = String(n);
    const radio = sec.querySelector<HTMLInputElement>(`input[type=radio][value="${n}"]`);
    if (radio && !radio.checked) radio.checked = true;
    for (const row of sec.querySelectorAll<HTMLElement>('tr.outcome')) row.classList.toggle('selected', row.dataset.n === String(n));
    for (const el of sec.querySelectorAll<HTMLElement>('[data-outcomes]')) {
      const on = (el.dataset.outcomes ?? '').split(' ').includes(String(n));
      el.classList.toggle('on-path', on);
      el.classList.toggle('off-path', !on);
      if (el.classList.contains('branch')) el.querySelector(':scope > .branch-head > .onpath')!.textContent = on ? `◆ on the path of outcome ${n}` : '';
    }
    const heading = sec.querySelector('.path-title');
    if (heading) heading.textContent = `Path of outcome ${n} (${o.words}), marked ▶; other outcomes' steps dimmed`;
    showRoute(sec, t, o);
    const first = sec.querySelector<HTMLElement>('.path .step.on-path');
    for (const s of sec.querySelectorAll<HTMLElement>('.path .step')) s.tabIndex = s === first ? 0 : -1;
    const info = first ? stepOf.get(first) : undefined;
    showState(sec, t, info ? info.s : null);
  }

  /** The outcome table's columns; on a phone each row is a card of labelled lines (html.ts, table.cards). */
  const OUTCOME_COLUMNS = ['#', 'probability', 'exact', 'outcome', 'packet after NAT', 'NAT'] as const;

  function outcomesTable(sec: HTMLElement, t: TraceData): HTMLElement {
    const body = h('tbody', null);
    for (const o of t.outcomes) {
      const radio = h('input', { type: 'radio', name: `${t.id}-outcome`, value: String(o.number), 'aria-label': `outcome ${o.number}: ${o.words}, probability ${o.prob.decimal}` });
      radio.addEventListener('change', () => radio.checked && select(sec, t, o.number));
      const [n, prob, exact, outcome, packet, nat] = OUTCOME_COLUMNS;
      const row = h(
        'tr',
        { class: `outcome ${verdictClass(o)}`, 'data-n': String(o.number) },
        h('td', { 'data-label': n }, h('label', null, radio, ` ${o.number}`)),
        h('td', { class: 'num', 'data-label': prob }, o.prob.decimal),
        h('td', { class: 'num', 'data-label': exact }, o.prob.exact ?? '-'),
        h('td', { class: 'verdict', 'data-label': outcome }, h('span', { class: 'glyph', 'aria-hidden': 'true' }, verdictGlyph(o)), ` ${o.words}`),
        h('td', { 'data-label': packet }, h('code', null, flow(t, o.packet))),
        h('td', { 'data-label': nat }, o.nat.join(', ') || '-'),
      );
      row.addEventListener('click', (e) => {
        if ((e.target as HTMLElement).tagName !== 'INPUT') select(sec, t, o.number);
      });
      body.append(row);
    }
    const notes = t.outcomes.flatMap((o) => [...o.unknown.map((u) => `outcome ${o.number}: UNKNOWN at ${u}`), ...(o.note ? [`outcome ${o.number}: ${o.note}`] : [])]);
    if (t.approximate) notes.push('too many possible states; the least likely were dropped');
    return h(
      'fieldset',
      { class: 'outcomes' },
      h('legend', null, 'Outcomes: pick one to see its path'),
      h('div', { class: 'scroll' }, h('table', { class: 'cards' }, h('thead', null, h('tr', null, ...OUTCOME_COLUMNS.map((c) => h('th', null, c)))), body)),
      notes.length ? h('ul', { class: 'notes' }, ...notes.map((n) => h('li', null, n))) : null,
    );
  }

  function traceSection(sec: HTMLElement, t: TraceData): void {
    sec.replaceChildren();
    const where = t.origin === 'local' ? 'made on this node: starts in OUTPUT' : `arrives on ${t.packet.inInterface ?? '?'}: starts in PREROUTING`;
    sec.append(h('h2', { id: `${t.id}-h` }, `${t.name ? `${t.name}: ` : ''}${t.protocol} ${flow(t, t.packet)}`), h('p', { class: 'where' }, where));
    const c = t.connection;
    if (c && (c.reply || c.state !== 'new')) {
      const odds = c.accepted.decimal === '1' ? '' : ` (its first packet is accepted with probability ${shareText(c.accepted)}; the odds below assume it was)`;
      sec.append(h('p', { class: 'connection' }, c.reply ? `Traced: the reply to this connection, back through reverse NAT${odds}` : c.state === 'established' ? `Traced: a later packet of this connection, ESTABLISHED${odds}` : `Traced: a packet conntrack sees as ${c.state.toUpperCase()}`));
    }
    sec.append(outcomesTable(sec, t), lanes(sec));
    const ol = h('ol', { class: 'steps tree' });
    segment(t, t.tree, ol, { at: '' });
    const path = h('div', { class: 'path' }, h('h3', { class: 'path-title' }, 'Path'), h('p', { class: 'keys' }, 'Keys: ↑/↓ or k/j walk the selected path, 1-9 pick an outcome; rules that did not match unfold on demand.'), ol);
    const panel = h('aside', { class: 'state', 'aria-live': 'polite' }, h('h3', { class: 'state-title' }, 'Select a step to see the packet there'), h('dl', null));
    sec.append(h('div', { class: 'body' }, path, panel));
    path.addEventListener('focusin', (e) => {
      const li = (e.target as HTMLElement).closest('.step');
      const info = li ? stepOf.get(li) : undefined;
      if (!li || !info) return;
      for (const s of sec.querySelectorAll<HTMLElement>('.step.current')) s.classList.remove('current');
      li.classList.add('current');
      showState(sec, t, info.s);
    });
    path.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      if (target.closest('a, summary')) return;
      const li = target.closest<HTMLElement>('.step');
      li?.focus();
    });
    sec.addEventListener('keydown', (e) => {
      const target = e.target as HTMLElement;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (/^[1-9]$/.test(e.key) && target.tagName !== 'INPUT') {
        const n = Number(e.key);
        if (n <= t.outcomes.length) {
          select(sec, t, n);
          e.preventDefault();
        }
        return;
      }
      if (!target.closest('.path')) return;
      const order = [...sec.querySelectorAll<HTMLElement>('.path .step.on-path')].filter((s) => s.offsetParent !== null);
      if (!order.length) return;
      const at = order.indexOf(target.closest('.step') as HTMLElement);
      let next = -1;
      if (e.key === 'ArrowDown' || e.key === 'j') next = Math.min(order.length - 1, at + 1);
      else if (e.key === 'ArrowUp' || e.key === 'k') next = Math.max(0, at < 0 ? 0 : at - 1);
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = order.length - 1;
      else return;
      e.preventDefault();
      for (const s of order) s.tabIndex = -1;
      order[next].tabIndex = 0;
      order[next].focus();
    });
    select(sec, t, 1);
  }

  const escapeText = (x: string) => x.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

  /** How each kind of listing names itself, its tables and its chains. */
  const KINDS: Readonly<Record<string, { title: string; table: (t: string) => string | null; chain: (c: ChainData) => string; unit: string }>> = {
    iptables: { title: 'Ruleset', table: (t) => `*${t}`, chain: (c) => c.chain, unit: 'rule' },
    nftables: { title: 'nftables ruleset', table: (t) => `table ${t}`, chain: (c) => `chain ${c.chain}`, unit: 'rule' },
    ipvs: { title: 'IPVS virtual servers', table: () => null, chain: (c) => c.declaration.text || c.chain, unit: 'real server' },
  };
  const kindOf = (l: PageListing) => KINDS[l.kind] ?? KINDS.iptables;
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

  /** Runs `f` once the parser has read the whole page (the listings' texts come after this script). */
  const whenParsed = (f: () => void) => (document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', f, { once: true }) : f());
  /**
   * A listing's rule texts, read when a chain is first shown: html.ts keeps them in an element of
   * their own, one line per rule, gzip-compressed (the browser's DecompressionStream unpacks them)
   * and base64-encoded, so the page is a fifth of their size and the parser has little to read.
   */
  const textsRead = new Map<string, Promise<readonly string[]>>();
  function textsOf(l: PageListing): Promise<readonly string[]> {
    let t = textsRead.get(l.id);
    if (!t) {
      t = new Promise<void>((done) => whenParsed(done)).then(async () => {
        const packed = document.getElementById(`kpsim-listing-${l.id}`)?.textContent?.trim() ?? '';
        if (!packed) return [];
        // A browser older than DecompressionStream (Chrome 80, Firefox 113, Safari 16.4) shows the lines' numbers only.
        if (typeof DecompressionStream === 'undefined') return [];
        const bytes = Uint8Array.from(atob(packed), (ch) => ch.charCodeAt(0));
        const text = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
        return text.split('\n');
      });
      textsRead.set(l.id, t);
    }
    return t;
  }
  /** Rule k (1-based) of chain c: its line in the file. */
  const ruleLine = (c: ChainData, k: number): number | null => (c.lines ? c.lines[k - 1] : c.first === null ? null : c.first + k - 1);

  /**
   * The listing of the reached chains: one fold per chain, the folds made when the listing opens
   * and each chain's lines drawn when it opens (listings load nothing until then).
   */
  function listingSection(l: PageListing): HTMLElement {
    const k = kindOf(l);
    const fam = l.family === 'ipv6' ? '6' : '4';
    const body = h('div', { class: 'chains' });
    const rules = l.chains.reduce((n, c) => n + c.rules, 0);
    const det = h('details', { class: 'listing', id: `listing-${l.id}` }, h('summary', null, `${plural(l.chains.length, l.kind === 'ipvs' ? 'virtual server' : 'chain')} reached (${plural(rules, k.unit)})`), body);
    const folds: { fold: HTMLDetailsElement; fill: (line: number | null) => Promise<void> }[] = [];
    const build = () => {
      if (folds.length) return;
      let table = '';
      for (const c of l.chains) {
        const heading = k.table(c.table);
        if (heading !== null && c.table !== table) {
          body.append(h('h3', null, heading));
          table = c.table;
        }
        const f = chainFold(l, c);
        folds.push(f);
        body.append(f.fold);
      }
    };
    det.addEventListener('toggle', () => det.open && build());
    let byLine: Map<number, number> | null = null;
    listingFill.set(l.id, async (line: number) => {
      if (!byLine) {
        byLine = new Map();
        l.chains.forEach((c, i) => {
          if (c.declaration.line !== null) byLine!.set(c.declaration.line, i);
          if (c.lines) for (const n of c.lines) if (n !== null) byLine!.set(n, i);
        });
      }
      // Lines that run on from a chain's first are found by range (no map entry per line).
      const i = byLine.get(line) ?? l.chains.findIndex((c) => c.first !== null && line >= c.first && line < c.first + c.rules);
      build();
      det.open = true;
      if (i < 0) return;
      folds[i].fold.open = true;
      await folds[i].fill(line);
    });
    const what = l.file ? `${l.file}${l.what && l.what !== l.file ? `, ${l.what}` : ''}` : 'the rules as kpsim read them (no file)';
    const several = data.listings.filter((x) => x.kind === l.kind).length > 1;
    return h(
      'section',
      { class: 'ruleset', 'data-kind': l.kind, 'aria-label': `${k.title}${several ? ` (IPv${fam})` : ''}` },
      h('h2', null, `${k.title}${several ? ` (IPv${fam})` : ''}: ${what}`),
      h('p', null, `Only the ${l.kind === 'ipvs' ? 'virtual servers' : 'chains'} the traced packets reached; each line as the file writes it, with its number there.`),
      det,
    );
  }
  /** Per listing: opens the chain a line is in and draws that line (resolved once it is there). */
  const listingFill = new Map<string, (line: number) => Promise<void>>();

  /** Lines drawn at once; a longer chain (a 10k-service KUBE-SERVICES) is drawn a block at a time, as it comes into view. */
  const BLOCK = 200;
  /** A line's height before it is drawn (the listing's 12.5px monospace at 1.4), so the scrollbar is about right. */
  const LINE_PX = 18;

  /**
   * A chain's fold, and how to draw its lines now (a link to a line opens it before the toggle event
   * runs, and draws the block that line is in).
   */
  function chainFold(l: PageListing, c: ChainData): { fold: HTMLDetailsElement; fill: (line: number | null) => Promise<void> } {
    const k = kindOf(l);
    const lines = h('div', { class: 'lines' });
    const fold = h('details', { class: 'chain', 'data-chain': `${c.table} ${c.chain}` }, h('summary', null, h('code', null, k.chain(c)), ` (${plural(c.rules, k.unit)})`), lines);
    const line = (n: number | null, text: string) => {
      const id = n === null ? '' : ` id="${lineId(l.id, n)}"`;
      const ln = n === null ? '<span class="ln"></span>' : `<a class="ln" href="#${lineId(l.id, n)}">${n}</a>`;
      return `<div class="line"${id}>${ln}<code>${escapeText(text)}</code></div>`;
    };
    let blocks: HTMLElement[] | null = null;
    const drawn = new Map<number, Promise<void>>();
    const draw = (b: number): Promise<void> => {
      let done = drawn.get(b);
      if (!done) {
        done = textsOf(l).then((texts) => {
          const el = blocks![b];
          const out: string[] = [];
          for (let r = b * BLOCK + 1; r <= Math.min(c.rules, (b + 1) * BLOCK); r++) out.push(line(ruleLine(c, r), texts[c.at + r - 1] ?? '(this browser cannot unpack the listing: no DecompressionStream)'));
          el.innerHTML = out.join('');
          el.dataset.drawn = '1';
          el.style.minHeight = '';
        });
        drawn.set(b, done);
      }
      return done;
    };
    const fill = async (at: number | null) => {
      if (!blocks) {
        lines.innerHTML = line(c.declaration.line, c.declaration.text);
        blocks = [];
        for (let r = 0; r < c.rules; r += BLOCK) {
          const el = h('div', { class: 'block', style: `min-height:${Math.min(BLOCK, c.rules - r) * LINE_PX}px` });
          blocks.push(el);
          lines.append(el);
        }
        if (blocks.length === 1) void draw(0);
        else {
          const seen = new IntersectionObserver((es) => es.forEach((e) => e.isIntersecting && draw(blocks!.indexOf(e.target as HTMLElement))), { rootMargin: '1200px 0px' });
          blocks.forEach((el) => seen.observe(el));
        }
      }
      if (at === null || at === c.declaration.line) return;
      const r = c.lines ? c.lines.indexOf(at) + 1 : c.first === null ? 0 : at - c.first + 1;
      if (r > 0) await draw(Math.floor((r - 1) / BLOCK));
    };
    fold.addEventListener('toggle', () => fold.open && fill(null));
    return { fold, fill };
  }

  function summary(): HTMLElement {
    const body = h('tbody', null);
    for (const t of data.traces) {
      const outs = t.outcomes.map((o) => `${o.prob.decimal} ${o.words}`).join('; ');
      const a = h('a', { href: `#${t.id}` }, t.name ?? `${t.protocol} ${flow(t, t.packet)}`);
      body.append(h('tr', null, h('td', { 'data-label': 'flow' }, a), h('td', { 'data-label': 'packet' }, h('code', null, `${t.protocol} ${flow(t, t.packet)}`)), h('td', { 'data-label': 'outcomes' }, outs || 'no outcome')));
    }
    return h('section', { class: 'summary' }, h('h2', null, `${data.traces.length} flows`), h('div', { class: 'scroll' }, h('table', { class: 'cards' }, h('thead', null, h('tr', null, h('th', null, 'flow'), h('th', null, 'packet'), h('th', null, 'outcomes'))), body)));
  }

  // Sections beyond the first ones are drawn when opened (a bulk --flows page stays quick to open).
  const EAGER = 30;
  const app = document.getElementById('app')!;
  const draw = new Map<string, () => void>();
  if (data.traces.length > 1) app.append(summary());
  data.traces.forEach((t, i) => {
    const sec = h('section', { class: 'trace', id: t.id, 'aria-labelledby': `${t.id}-h` });
    app.append(sec);
    const render = () => {
      if (!sec.dataset.lanes) traceSection(sec, t);
    };
    draw.set(t.id, render);
    if (i < EAGER) render();
    else {
      const button = h('button', { type: 'button' }, "Show this flow's outcomes and path");
      button.addEventListener('click', render);
      sec.append(h('h2', { id: `${t.id}-h` }, `${t.name ? `${t.name}: ` : ''}${t.protocol} ${flow(t, t.packet)}`), button);
    }
  });
  for (const l of data.listings) app.append(listingSection(l));
  document.addEventListener('click', (e) => {
    const a = (e.target as HTMLElement).closest<HTMLAnchorElement>('a[href^="#"]');
    const id = a?.getAttribute('href')?.slice(1) ?? '';
    const m = /^L([a-z]*[46])-(\d+)$/.exec(id);
    const fill = m ? listingFill.get(m[1]) : undefined;
    if (fill) {
      // The line is drawn when its listing's texts are unpacked: then go there.
      const there = document.getElementById(id);
      const going = fill(Number(m![2]));
      if (there) return;
      e.preventDefault();
      void going.then(() => (location.hash === `#${id}` ? document.getElementById(id)?.scrollIntoView() : (location.hash = id)));
    } else if (draw.has(id)) draw.get(id)!();
  });
  // Drawn now; ready (every listing's texts read by the parser too) when the page is parsed.
  document.documentElement.dataset.drawn = '1';
  whenParsed(() => (document.documentElement.dataset.ready = '1'));
}
