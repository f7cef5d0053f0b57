// Dotted quads as 32-bit numbers, read without allocating (the reader and the simulator both meet
// one per address on their hot paths). The two differ only in leading zeros: the reader refuses
// them, as ip-address's Address4 does and iptables-save never writes them; the simulator, handed
// addresses from anywhere, reads an octet of up to three digits ("010" is 10).

/** The unsigned 32-bit value of `a.b.c.d`, or -1 when it is not one. */
export function dottedQuad(text: string, leadingZeros: boolean): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (!leadingZeros && digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}
