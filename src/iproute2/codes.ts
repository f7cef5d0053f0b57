// Diagnostic codes of the iproute2 JSON readers (`ip -j addr`, `ip -j route`, `bridge -j link`).
// Tests assert on these, never on message wording.

export type IprouteCode =
  | 'IPROUTE_NOT_JSON' // text that is not JSON at all (`ip addr` without -j)
  | 'IPROUTE_BAD_JSON' // malformed JSON, at the offending character
  | 'IPROUTE_TOO_DEEP' // nesting beyond what any iproute2 output has
  | 'IPROUTE_SHAPE' // not a list of objects, or a field of the wrong type
  | 'IPROUTE_MISSING_FIELD' // an entry without a field the kernel always reports (ifname, dst, ...)
  | 'IPROUTE_BAD_VALUE' // an address, prefix length, scope or type that is not one
  | 'IPROUTE_WRONG_FILE' // routes given as addresses, links as routes, ...
  | 'IPROUTE_FAMILY' // a default route whose family nothing tells
  | 'IPROUTE_MULTIPATH' // a route with several next hops: the first is taken (a warning)
  | 'IPROUTE_OTHER_TABLE'; // routes of tables other than main and local, used only by policy rules (a warning)
