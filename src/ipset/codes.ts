// Diagnostic codes of the `ipset save` reader. Tests assert on these, never on message wording.

export type IpsetCode =
  | 'IPSET_SYNTAX' // a line missing its set name, type or entry
  | 'IPSET_UNKNOWN_COMMAND' // a line that is not create/add
  | 'IPSET_UNTERMINATED_QUOTE'
  | 'IPSET_NAME_TOO_LONG' // longer than IPSET_MAXNAMELEN - 1 (31)
  | 'IPSET_DUPLICATE_SET' // the same set created twice
  | 'IPSET_UNKNOWN_SET' // add to a set no create line made
  | 'IPSET_UNKNOWN_TYPE' // a set type kpsim does not model (a warning: entries kept as text)
  | 'IPSET_UNKNOWN_OPTION'
  | 'IPSET_MISSING_VALUE'
  | 'IPSET_BAD_VALUE' // family other than inet/inet6, a non-number hashsize ...
  | 'IPSET_BAD_ENTRY' // the wrong number of dimensions for the type
  | 'IPSET_BAD_ADDRESS'
  | 'IPSET_BAD_PORT'
  | 'IPSET_WRONG_FAMILY' // an IPv6 address in a family inet set, or the reverse
  | 'IPSET_DUPLICATE_ENTRY'; // the same entry added twice (ipset restore refuses it without -exist)
