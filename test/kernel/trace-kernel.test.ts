// Every flow of kube-proxy's iptables conformance corpus (golden/kube-proxy-iptables) through the
// real kernel, compared with kpsim trace and with the tracer's expectations (judge-corpus.ts).
import { CORPUS } from '../packetsim/corpus.js';
import { judgeCorpus } from './judge-corpus.js';

judgeCorpus(CORPUS, 'kernel: every conformance flow, real packets against kpsim trace');
