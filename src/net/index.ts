// Network values for every stage: families, addresses, networks, ports and protocol numbers,
// parsed once into numbers and printed back. Imports nothing of kpsim's; the model, the readers,
// the compiler and the simulator import it.
//
// Two readings of an address: `parseAddress`/`parseCidr` read an address of a known family into a
// number (strict, as iptables-save writes it; `sloppy` for leading zeros), for readers and the
// simulator; `parseIP`/`parseCIDR` find the family and keep the canonical text beside the number,
// as kube-proxy reads API fields (address.ts), for the model and the compiler.
export * from './family.js';
export * from './ip.js';
export * from './cidr.js';
export * from './address.js';
export * from './port.js';
export * from './protocol.js';
export * from './interfaces.js';
