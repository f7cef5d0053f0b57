// Lint finding codes. Tests assert on these and on positions, never on message wording.

export type FindingCode =
  | 'LINT_JUMP_TO_MISSING_CHAIN' // -j/-g to a chain the table does not have (error: iptables-restore refuses it)
  | 'LINT_STALE_SERVICE_CHAIN' // a KUBE-SVC/SVL/EXT/FW/SEP chain nothing jumps to
  | 'LINT_UNREFERENCED_CHAIN' // another user chain nothing jumps to (a note: kube-proxy and others keep some on purpose)
  | 'LINT_SHADOWED_RULE' // an earlier rule of the chain matches everything this one does, and ends the chain
  | 'LINT_UNREACHABLE_RULE' // after a rule that ends the chain for every packet
  | 'LINT_SEP_WITHOUT_DNAT' // a KUBE-SEP (nftables: endpoint-) chain that never DNATs
  | 'LINT_DNAT_NOT_ENDPOINT' // an nftables endpoint- chain whose DNAT is not the endpoint its name says
  | 'LINT_UNEVEN_SPLIT' // a KUBE-SVC/SVL statistic split other than kube-proxy's for that endpoint count
  | 'LINT_UNREACHABLE_ENDPOINT' // an endpoint rule of a split that no packet reaches
  | 'LINT_SPLIT_FALLS_THROUGH' // some new connections match no endpoint rule of a split
  | 'LINT_MASQ_MARK_CONFLICT' // another component sets or tests kube-proxy's masquerade mark bit
  | 'LINT_CHAIN_NO_OBJECT'; // with --objects: a per-service chain no service port or endpoint hashes to
