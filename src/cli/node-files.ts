// The files that describe a node, from their flags or from one folder (--node-dir) holding them
// under the names of the collect line in the README:
//
//   iptables.save     iptables-save          ip-addr.json     ip -j addr
//   ip6tables.save    ip6tables-save         ip-route.json    ip -j route show table all
//   ipset.save        ipset save             ip6-route.json   ip -6 -j route show table all
//   ipvsadm.save      ipvsadm-save -n        bridge-link.json bridge -j link
//                                            sysctl.txt       sysctl -a
//
// A flag names a file itself and wins over the folder's. Missing files of the folder are simply
// not there (a node without IPv6 has no ip6tables.save); only the folder itself must exist.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DumpText, NodeDescription } from '../node/assemble.js';
import { readInputs, UsageError } from './common.js';

export const NODE_DIR_FILES = {
  rules4: 'iptables.save',
  rules6: 'ip6tables.save',
  ipsets: 'ipset.save',
  ipvs: 'ipvsadm.save',
  ipAddr: 'ip-addr.json',
  ipRoute: 'ip-route.json',
  ip6Route: 'ip6-route.json',
  bridgeLinks: 'bridge-link.json',
  sysctls: 'sysctl.txt',
} as const;

export interface NodeFileFlags {
  nodeDir?: string;
  ipAddr?: string;
  ipRoute?: string[];
  sysctls?: string;
  bridgeLinks?: string;
}

export function readDump(path: string): DumpText {
  const [f] = readInputs([path], { directories: false, what: 'the dump file' });
  return { file: f.name, text: f.text };
}

/** A file of the --node-dir folder, when there. */
export function nodeDirFile(flags: NodeFileFlags, key: keyof typeof NODE_DIR_FILES): string | undefined {
  if (!flags.nodeDir) return undefined;
  const p = join(flags.nodeDir, NODE_DIR_FILES[key]);
  return existsSync(p) ? p : undefined;
}

export function checkNodeDir(flags: NodeFileFlags): void {
  if (!flags.nodeDir) return;
  let dir = false;
  try {
    dir = statSync(flags.nodeDir).isDirectory();
  } catch {
    throw new UsageError(`--node-dir ${flags.nodeDir}: no such folder`);
  }
  if (!dir) throw new UsageError(`--node-dir ${flags.nodeDir}: not a folder; give the folder holding ${Object.values(NODE_DIR_FILES).join(', ')}`);
}

/** The description files given, read; null when none is. */
export function readDescription(flags: NodeFileFlags): NodeDescription | null {
  const ipAddr = flags.ipAddr ?? nodeDirFile(flags, 'ipAddr');
  const routes = flags.ipRoute?.length ? flags.ipRoute : [nodeDirFile(flags, 'ipRoute'), nodeDirFile(flags, 'ip6Route')].filter((p): p is string => p !== undefined);
  const sysctls = flags.sysctls ?? nodeDirFile(flags, 'sysctls');
  const bridgeLinks = flags.bridgeLinks ?? nodeDirFile(flags, 'bridgeLinks');
  if (!ipAddr && !routes.length && !sysctls && !bridgeLinks) return null;
  return {
    ipAddr: ipAddr ? readDump(ipAddr) : null,
    ipRoutes: routes.map(readDump),
    sysctls: sysctls ? readDump(sysctls) : null,
    bridgeLinks: bridgeLinks ? readDump(bridgeLinks) : null,
  };
}

/** Every file of a description, for printing diagnostics with their source lines. */
export function descriptionFiles(d: NodeDescription | null): { name: string; text: string }[] {
  if (!d) return [];
  return [d.ipAddr, ...(d.ipRoutes ?? []), d.sysctls, d.bridgeLinks].filter((f): f is DumpText => !!f).map((f) => ({ name: f.file, text: f.text }));
}
