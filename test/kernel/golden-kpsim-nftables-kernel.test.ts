// kpsim's own nftables golden cases (golden/kpsim-nftables) through the real kernel: each case's
// transaction loaded with nft -f into a throwaway service node, every flow sent as real packets
// (ClientIP affinity flows as sequences at their `at`), compared with kpsim trace and with the
// case's expected output/masq (judge-corpus.ts).
import { judgeCorpus } from './judge-corpus.js';

judgeCorpus('golden/kpsim-nftables', 'kernel: kpsim nftables golden cases, real packets against kpsim trace');
