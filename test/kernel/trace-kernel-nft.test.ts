// Every flow of kube-proxy's nftables conformance corpus (golden/kube-proxy-nftables) through the
// real kernel: kpsim's nftables transaction loaded with nft -f into a throwaway service node, real
// packets sent, and what netfilter did compared with kpsim trace and with the tracer's
// expectations (judge-corpus.ts).
import { judgeCorpus } from './judge-corpus.js';

judgeCorpus('golden/kube-proxy-nftables', 'kernel: every nftables conformance flow, real packets against kpsim trace');
