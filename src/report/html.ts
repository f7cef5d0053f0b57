// `kpsim trace --html FILE`: one self-contained page (issue 18). The data (page-data.ts) sits in the
// page as JSON and page-script.ts draws it, so the page is the report and nothing else: no second
// walk, no network (a Content-Security-Policy allows inline style and script only: no CDN, no
// fetch, no font), and without JavaScript the plain-text report is shown instead.
import { gzipSync } from 'node:zlib';
import type { PageData, PageView } from './page-data.js';
import { pageScript } from './page-script.js';

const CSS = `
:root { --fg: #1b1f24; --dim: #6a737d; --line: #d0d7de; --bg: #fff; --soft: #f6f8fa; --accept: #1a7f37; --bad: #cf222e; --unknown: #9a6700; --path: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.top { padding: 12px 20px; border-bottom: 1px solid var(--line); background: var(--soft); }
header.top h1 { margin: 0; font-size: 18px; }
header.top p { margin: 4px 0 0; color: var(--dim); overflow-wrap: anywhere; }
#app { padding: 8px 20px 40px; max-width: 1500px; }
h2 { font-size: 17px; margin: 24px 0 4px; overflow-wrap: anywhere; }
h3 { font-size: 14px; margin: 14px 0 6px; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
section.trace, section.summary, section.ruleset { border-top: 2px solid var(--line); margin-top: 18px; }
.where, .connection { margin: 2px 0; color: var(--dim); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
fieldset.outcomes { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px 10px; margin: 10px 0; min-width: 0; }
tr.outcome { cursor: pointer; }
tr.outcome.selected { background: #ddf4ff; outline: 2px solid var(--path); }
tr.outcome.selected td:first-child label::after { content: " ◆ selected"; font-weight: 600; }
.v-accept .verdict, li.end.v-accept { color: var(--accept); }
.v-drop .verdict, .v-reject .verdict, li.end.v-drop, li.end.v-reject { color: var(--bad); }
.v-unknown .verdict, li.end.v-unknown { color: var(--unknown); }
.verdict { font-weight: 600; white-space: nowrap; }
.notes { color: var(--bad); margin: 6px 0 0; }
.route .route-text { margin: 0 0 8px; font-weight: 600; overflow-wrap: anywhere; }
.lanes { display: grid; gap: 10px 28px; grid-template-columns: repeat(4, minmax(0, 1fr)); grid-template-areas: "pre route fwd post" ". in local out"; max-width: 900px; }
.hookbox { border: 2px dashed var(--line); border-radius: 8px; padding: 6px 8px; min-height: 56px; color: var(--dim); position: relative; display: flex; flex-direction: column; }
.hookbox .name { font-weight: 600; }
.hookbox .order:not(:empty)::before { content: "step "; }
.hookbox .tables { font-size: 12px; overflow-wrap: anywhere; }
.hookbox .tables .fn { display: block; }
.prio { color: var(--dim); font-size: 11px; font-weight: 400; }
.hookbox.on-route { border: 2px solid var(--path); color: var(--fg); background: #ddf4ff; }
.hookbox.on-route .name::before { content: "▶ "; }
/* The netfilter packet flow: arrows between the hooks (hidden where the lanes stack). */
.a-pre::after, .a-route::after, .a-fwd::after, .a-in::after, .a-local::after { content: "→"; position: absolute; right: -22px; top: 14px; color: var(--dim); font-size: 16px; }
.a-route::before { content: "↓"; position: absolute; left: 50%; bottom: -19px; color: var(--dim); }
.a-out::before { content: "↑"; position: absolute; left: 50%; top: -19px; color: var(--dim); }
.a-pre { grid-area: pre; } .a-route { grid-area: route; } .a-fwd { grid-area: fwd; } .a-post { grid-area: post; }
.a-in { grid-area: in; } .a-local { grid-area: local; } .a-out { grid-area: out; }
.body { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; align-items: start; }
aside.state { position: sticky; top: 8px; border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px 10px; background: var(--soft); }
aside.state dl { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 2px 10px; margin: 0; }
aside.state dt { color: var(--dim); }
aside.state dd { margin: 0; overflow-wrap: anywhere; }
.keys { color: var(--dim); margin: 0 0 6px; font-size: 12px; }
ol.steps { list-style: none; margin: 0; padding: 0; }
ol.branches { list-style: none; margin: 4px 0 4px 6px; padding: 0 0 0 10px; border-left: 2px solid var(--line); }
li.lane { margin-top: 8px; font-weight: 600; }
li.lane .hook { text-transform: none; }
li.lane .table { color: var(--dim); font-weight: 400; }
li.step { display: grid; grid-template-columns: 14px 52px 96px minmax(0, 1fr); column-gap: 6px; padding: 2px 4px; border-radius: 4px; }
li.step > .why, li.step > .words, li.step > .diff { grid-column: 4; }
li.step:focus { outline: 2px solid var(--path); }
li.step.current { background: #fff8c5; }
li.step .ln { text-align: right; color: var(--dim); font: 12px ui-monospace, monospace; }
li.step .kind { color: var(--dim); font-size: 12px; }
li.step code.rule { overflow-wrap: anywhere; }
li.k-nomatch code.rule, li.k-return code.rule { color: var(--dim); }
li.k-conntrack code.rule, li.k-route code.rule { font-style: italic; }
.why { color: var(--dim); }
.words { font-style: italic; }
.diff del { background: #ffebe9; text-decoration: line-through; }
.diff ins { background: #dafbe1; text-decoration: none; font-weight: 600; }
.diff .field { color: var(--dim); }
.diff .bits { color: var(--dim); font-size: 12px; }
.fork-head { font-weight: 600; margin-top: 6px; }
.branch-head { margin-top: 4px; }
.branch-head .share { font-weight: 600; font-variant-numeric: tabular-nums; }
.branch-head .bar { display: inline-block; width: 80px; height: 8px; border: 1px solid var(--line); margin: 0 6px; vertical-align: middle; }
.branch-head .bar > span { display: block; height: 100%; background: var(--path); }
.branch-head .onpath { font-weight: 600; }
.packet { color: var(--dim); }
li.then { color: var(--dim); font-weight: 600; margin-top: 6px; }
li.end { font-weight: 600; margin: 4px 0; }
li.fold summary { color: var(--dim); cursor: pointer; font-size: 12.5px; }
.off-path { opacity: 0.45; }
li.step.on-path .marker::before { content: "▶"; color: var(--path); }
li.branch.off-path { opacity: 1; }
li.branch.off-path > .branch-head { opacity: 0.55; }
details.listing > summary { cursor: pointer; }
.chains h3 { margin: 10px 0 2px; }
details.chain { margin: 2px 0; }
details.chain > summary { cursor: pointer; }
.line { display: grid; grid-template-columns: 60px minmax(0, 1fr); column-gap: 8px; }
.line .ln { text-align: right; color: var(--dim); font: 12px ui-monospace, monospace; }
.line:target { background: #fff8c5; outline: 2px solid var(--path); }
.line code { overflow-wrap: anywhere; }
noscript pre { white-space: pre-wrap; }
@media (max-width: 760px) {
  #app { padding: 6px 10px 30px; }
  .hookbox::after, .hookbox::before { display: none; }
  .lanes { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); grid-template-areas: "pre in" "route local" "fwd out" "post ."; gap: 8px; }
  .body { grid-template-columns: minmax(0, 1fr); }
  aside.state { position: static; }
  li.step { grid-template-columns: 14px 44px minmax(0, 1fr); }
  li.step .kind { display: none; }
  li.step > .why, li.step > .words, li.step > .diff { grid-column: 3; }
  th, td { padding-right: 6px; }
  /* Tables as cards: a row is a block of labelled lines, nothing scrolls sideways. */
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; }
  table.cards { width: 100%; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.cards tr { border-bottom: 1px solid var(--line); padding: 4px 6px; }
  table.cards td { border: 0; padding: 1px 0; white-space: normal; overflow-wrap: anywhere; }
  table.cards td[data-label]:not(:first-child)::before { content: attr(data-label) ": "; color: var(--dim); font-weight: 400; }
  table.cards code { overflow-wrap: anywhere; }
}
`;

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ESCAPES[c]);
}

/** JSON safe inside a script element (no `</script>`, no `<!--`). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

/**
 * A listing's rule texts as the page keeps them: one line each, gzip-compressed and base64-encoded
 * (page-script.ts textsOf unpacks them with the browser's DecompressionStream). A 10k-service
 * KUBE-SERVICES is 1.6 MB of text, 0.3 MB so: the browser parses a page a quarter of the size.
 */
function packed(texts: readonly string[]): string {
  return gzipSync(Buffer.from(texts.join('\n'), 'utf8')).toString('base64');
}

/** The whole page; `texts` are the traces as `kpsim trace` prints them (shown where scripts do not run). */
export function renderHtml(data: PageData, texts: readonly string[]): string {
  const first = data.traces[0];
  const title = data.traces.length === 1 && first ? `kpsim trace: ${first.name ? `${first.name}: ` : ''}${first.packet.source} -> ${first.packet.destination}` : `kpsim trace: ${data.traces.length} flows`;
  // esbuild-based runners (tsx, vitest) add __name() calls to functions; the page defines it. The
  // marks time the page as it opens (npm run bench:html): the script's start, its data read, the
  // page drawn, and shown (the frame after it: laid out and painted).
  // The listings' rule texts apart from the data the page draws at once, after the script (the page
  // is drawn before the parser reads them), packed: read only when a chain is shown.
  const view: PageView = { ...data, listings: data.listings.map(({ texts: _texts, ...l }) => l) };
  const listings = data.listings.map((l) => `<script type="application/octet-stream" data-encoding="gzip base64" id="kpsim-listing-${escapeHtml(l.id)}">${packed(l.texts)}</script>`).join('\n');
  const script = `const __name = (f) => f;\nperformance.mark('kpsim-start');\nconst data = JSON.parse(document.getElementById('kpsim-data').textContent);\nperformance.mark('kpsim-parsed');\n(${pageScript.toString()})(data);\nperformance.mark('kpsim-drawn');\nrequestAnimationFrame(() => setTimeout(() => performance.mark('kpsim-shown')));`.replace(/<\/script/gi, '<\\/script');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="generator" content="kpsim trace --html">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(data.command)} · ${escapeHtml(data.mode)} mode</p></header>
<main id="app"><noscript><p>This page draws the trace with JavaScript; here it is as text.</p><pre>${escapeHtml(texts.join('\n'))}</pre></noscript></main>
<script type="application/json" id="kpsim-data">${scriptJson(view)}</script>
<script>${script}</script>
${listings}
</body>
</html>
`;
}
