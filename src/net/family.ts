// Address families. IPv4 and IPv6 rules live in separate tables (iptables / ip6tables), so every
// rule, set and packet knows its family, and addresses of the two never meet.

export type Family = 'ipv4' | 'ipv6';

/** The width of an address of the family, in bits. */
export function familyBits(family: Family): 32 | 128 {
  return family === 'ipv4' ? 32 : 128;
}

/** The family of a bare address's text, judged by a colon alone: a guess to pick a parser, not a check. */
export function familyOfText(text: string): Family {
  return text.includes(':') ? 'ipv6' : 'ipv4';
}
