// SCTP probes without an SCTP stack. Node has no SCTP sockets and this kernel has no SCTP module,
// but netfilter tracks and NATs SCTP all the same (nf_conntrack_proto_sctp), so an SCTP INIT sent
// from a raw socket goes through the node's rules like a real association's first packet. What
// came of it is read the way the TCP/UDP client reads a connection:
//   - the node's conntrack table holds the INIT's entry (DNAT target, masquerade) when the rules
//     let it through (the judge reads that table, as for TCP and UDP);
//   - an ICMP port unreachable quoting the INIT is the REJECT (`ECONNREFUSED`);
//   - an ICMP protocol unreachable (ICMPv6: parameter problem, unrecognised next header) means the
//     INIT was delivered to a host with no SCTP stack, the pod's or the node's (a `reply`); in the
//     sender's own namespace the kernel hands a delivered INIT to the raw SCTP socket instead of
//     answering (ip_local_deliver_finish sends no protocol unreachable when a raw socket took it),
//     so the prober reads that socket too: its own INIT coming back is a local delivery;
//   - nothing within the timeout is a DROP (`TIMEOUT`).
// The probe is a small Python program, sctp-client.py beside this file (python3 is on every
// machine here; raw sockets need no extension module), run inside the namespace; it prints the
// same JSON as the TCP/UDP client (flow-client.cjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The probe program (python3 runs it by this path): see the file's first lines for its arguments. */
export const SCTP_CLIENT = fileURLToPath(new URL('./sctp-client.py', import.meta.url));

let python: boolean | null = null;

/** Whether SCTP probes can be sent here (python3 on the PATH). */
export function sctpProbesAvailable(): boolean {
  python ??= spawnSync('python3', ['-c', 'import socket'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  return python;
}
