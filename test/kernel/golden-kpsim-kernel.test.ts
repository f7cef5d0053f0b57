// kpsim's own golden cases (golden/kpsim) through the real kernel: every flow, compared with kpsim
// trace and with the case's expected output/masq. Flows that name their interface (local-traffic
// detection by BridgeInterface or InterfaceNamePrefix) are sent: the judge names the node's
// pods-side interface after them (one name per case) and sends pods-side sources from there, eth0
// ones from the client side. Flows to a ClientIP-affinity service (session-affinity-*) share
// state: the judge sends them once per trial as a sequence at their `at`, really waiting (61 s
// for session-affinity-expired), and judges each run on its joint odds (judge-sequence.ts).
import { judgeCorpus } from './judge-corpus.js';

judgeCorpus('golden/kpsim', 'kernel: kpsim golden cases, real packets against kpsim trace');
