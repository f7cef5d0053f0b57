// The view as JSON for tools (`kpsim explain --json`): fields may be added, never renamed.
// Shares are exact fractions (`715827883/2147483648`) beside a decimal; positions are file:line:col.
import { fractionText, toDecimal, type Prob } from '../packetsim/fraction.js';
import type { SourceNames } from './story.js';
import { looksLike } from './story.js';
import type { NodeServices, Piece, ServicePortView, Where } from './view.js';

export interface WhereJson {
  file: string | null;
  line: number | null;
  col: number | null;
  what: string;
}

export function whereJson(w: Where | null, files: SourceNames): WhereJson | null {
  if (!w) return null;
  return { file: files[w.source], line: w.span?.line ?? null, col: w.span?.col ?? null, what: w.what };
}

export function shareJson(p: Prob | null): { fraction: string; probability: number } | null {
  return p ? { fraction: fractionText(p), probability: toDecimal(p) } : null;
}

export function pieceJson(p: Piece, files: SourceNames): object {
  return { id: p.id, kind: p.kind, at: whereJson(p.at, files) };
}

export function portJson(p: ServicePortView, files: SourceNames): object {
  return {
    name: p.name,
    nameFrom: p.nameFrom,
    key: p.key,
    protocol: p.protocol,
    hash: p.hash,
    looksLike: looksLike(p),
    entries: p.entries.map((e) => ({ kind: e.kind, protocol: e.protocol, address: e.address, port: e.port, localhost: e.localhost ?? false, outcome: e.outcome, at: whereJson(e.at, files) })),
    splits: p.splits.map((s) => ({
      policy: s.policy,
      via: s.via,
      scheduler: s.scheduler,
      fallThrough: shareJson(s.fallThrough),
      endpoints: s.endpoints.map((e) => ({ address: e.address, port: e.port, share: shareJson(e.share), via: e.via, at: whereJson(e.at, files) })),
    })),
    affinitySeconds: p.affinitySeconds,
    sourceRanges: p.sourceRanges,
    internalPolicy: p.internalPolicy,
    externalPolicy: p.externalPolicy,
    notes: p.notes,
    pieces: p.pieces.map((x) => pieceJson(x, files)),
  };
}

export function nodeJson(v: NodeServices, files: SourceNames): object {
  return { mode: v.mode, ports: v.ports.map((p) => portJson(p, files)), orphans: v.orphans.map((o) => pieceJson(o, files)) };
}
