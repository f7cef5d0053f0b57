# The syntax of one unit of nft text, over the unit's shape (lexer.ts shapeOf: keywords and
# punctuation as themselves, values as classes %W %Q %N %T %A4 %A6 %MAC %REF %VAR; a `{...}` set
# literal inside the unit is one %SET, a declaration's body is %BODY after its head). The first
# token says where the unit stands: %TOP (a command), %TABLE / %CHAIN / %SET (a unit inside that
# body), %ELEM (one element of a set literal), %RULE (a rule's statements; in a command the rule
# after the chain name is planned apart and stands as %STMTS in the command's shape).
#
# The language is nft's (nft(8); nftables' src/parser_bison.y, read, not copied). Postprocessors
# build plans: trees that name token indices instead of values (plan.ts), so one grammar run
# serves every unit of the same shape; build.ts reads the values.

@preprocessor esmodule

@{%
// The array lexer over shapes is attached at run time (plan.ts); nearleyc only needs to know that
// %tokens are token types.
const lexer = { has: () => true };
const I = (t) => t.i;
const opt = (t) => (t ? t.i : -1);
const nth = (n) => (d) => d[n];
const setOrRef = (t) => (t.type === 'SET' ? { e: 'set', i: t.i } : { e: 'ref', i: t.i });
%}

@lexer lexer

main -> "%TOP" top {% nth(1) %}
      | "%TABLE" tableUnit {% nth(1) %}
      | "%CHAIN" chainUnit {% nth(1) %}
      | "%SET" setUnit {% nth(1) %}
      | "%ELEM" element {% nth(1) %}
      | "%RULE" rule {% nth(1) %}

# ---------------------------------------------------------------------------------- commands

top -> verb:? object {% (d) => ({ u: 'command', verb: d[0] === null ? -1 : d[0], obj: d[1] }) %}

verb -> ("add" | "create" | "insert" | "replace" | "delete" | "destroy" | "flush" | "reset" | "list") {% (d) => d[0][0].i %}

object -> "table" tableRef %BODY:? {% (d) => ({ o: 'table', ref: d[1], handle: -1, body: d[2] !== null }) %}
        | "table" family:? "handle" %N {% (d) => ({ o: 'table', ref: { fam: d[1] === null ? -1 : d[1], name: -1 }, handle: I(d[3]), body: false }) %}
        | declKind tableRef name %BODY:? {% (d) => ({ o: d[0].kind, kw: d[0].i, ref: d[1], name: I(d[2]), handle: -1, body: d[3] !== null }) %}
        | declKind tableRef "handle" %N {% (d) => ({ o: d[0].kind, kw: d[0].i, ref: d[1], name: -1, handle: I(d[3]), body: false }) %}
        | "element" tableRef name %SET {% (d) => ({ o: 'element', ref: d[1], name: I(d[2]), set: I(d[3]) }) %}
        | "rule" tableRef name position:? %STMTS {% (d) => ({ o: 'rule', ref: d[1], name: I(d[2]), position: d[3], rule: true }) %}
        | "rule" tableRef name "handle" %N {% (d) => ({ o: 'rule', ref: d[1], name: I(d[2]), position: { kw: I(d[3]), i: I(d[4]) }, rule: false }) %}
        | "ruleset" family:? {% (d) => ({ o: 'ruleset', fam: d[1] === null ? -1 : d[1] }) %}
        | objectKind tableRef name %BODY:? {% (d) => ({ o: 'object', kw: d[0], ref: d[1], name: I(d[2]), body: d[3] !== null }) %}

declKind -> "chain" {% (d) => ({ kind: 'chain', i: d[0].i }) %}
          | "set" {% (d) => ({ kind: 'set', i: d[0].i }) %}
          | "map" {% (d) => ({ kind: 'map', i: d[0].i }) %}

# Stateful objects and flowtables: kept as written (their first words name the type).
objectKind -> ("flowtable" | "counter" | "quota" | "limit" | "synproxy" | "secmark") {% (d) => [d[0][0].i] %}
            | "ct" %W {% (d) => [d[0].i, d[1].i] %}

position -> ("index" | "handle" | "position") %N {% (d) => ({ kw: d[0][0].i, i: I(d[1]) }) %}

# A family word is always the family (nft's scanner makes it a keyword): `table ip` names no table.
tableRef -> family name {% (d) => ({ fam: d[0], name: I(d[1]) }) %}
          | nameNoFamily {% (d) => ({ fam: -1, name: I(d[0]) }) %}

family -> %fam {% (d) => d[0].i %}

name -> %W {% id %} | %Q {% id %} | %kw {% id %}
nameNoFamily -> %W {% id %} | %Q {% id %} | %kw {% id %}

# ------------------------------------------------------------------------------ body units

tableUnit -> "flags" flagList {% (d) => ({ u: 'flags', flags: d[1] }) %}
           | "comment" %Q {% (d) => ({ u: 'comment', i: I(d[1]) }) %}
           | declKind name %BODY {% (d) => ({ u: 'decl', o: d[0].kind, kw: d[0].i, name: I(d[1]) }) %}
           | objectKind name %BODY {% (d) => ({ u: 'decl', o: 'object', kw: d[0], name: I(d[1]) }) %}

chainUnit -> "type" name "hook" name device:? "priority" priority
               {% (d) => ({ u: 'hook', type: I(d[1]), hook: I(d[3]), device: d[4] === null ? -1 : d[4], prio: d[6] }) %}
           | "policy" ("accept" | "drop") {% (d) => ({ u: 'policy', i: d[1][0].i }) %}
           | "comment" %Q {% (d) => ({ u: 'comment', i: I(d[1]) }) %}
           | "devices" "=" %SET {% (d) => ({ u: 'devices', set: I(d[2]) }) %}

device -> "device" (%W | %Q) {% (d) => d[1][0].i %}

priority -> %N {% (d) => ({ name: -1, sign: -1, num: I(d[0]), neg: false }) %}
          | "-" %N {% (d) => ({ name: -1, sign: -1, num: I(d[1]), neg: true, minus: I(d[0]) }) %}
          | %W {% (d) => ({ name: I(d[0]), sign: -1, num: -1, neg: false }) %}
          | %W ("+" | "-") %N {% (d) => ({ name: I(d[0]), sign: d[1][0].i, num: I(d[2]), neg: false }) %}

setUnit -> "type" typeList {% (d) => ({ u: 'setType', key: d[1], data: null }) %}
         | "type" typeList ":" typeList {% (d) => ({ u: 'setType', key: d[1], data: d[3] }) %}
         | "typeof" lhsConcat {% (d) => ({ u: 'typeof', key: d[1], data: null }) %}
         | "typeof" lhsConcat ":" lhsConcat {% (d) => ({ u: 'typeof', key: d[1], data: d[3] }) %}
         | "flags" flagList {% (d) => ({ u: 'flags', flags: d[1] }) %}
         | ("timeout" | "gc-interval") timeValue {% (d) => ({ u: d[0][0].value, i: d[1] }) %}
         | "size" %N {% (d) => ({ u: 'size', i: I(d[1]) }) %}
         | "policy" %W {% (d) => ({ u: 'setPolicy', i: I(d[1]) }) %}
         | "counter" {% () => ({ u: 'counter' }) %}
         | "auto-merge" {% () => ({ u: 'auto-merge' }) %}
         | "comment" %Q {% (d) => ({ u: 'comment', i: I(d[1]) }) %}
         | "elements" "=" %SET {% (d) => ({ u: 'elements', set: I(d[2]) }) %}

typeList -> typeName {% (d) => [d[0]] %}
          | typeList "." typeName {% (d) => [...d[0], d[2]] %}
typeName -> (%W | %kw) {% (d) => d[0][0].i %}

flagList -> flag {% (d) => [d[0]] %}
          | flagList "," flag {% (d) => [...d[0], d[2]] %}
flag -> (%W | %kw) {% (d) => d[0][0].i %}

timeValue -> (%T | %N) {% (d) => d[0][0].i %}

# -------------------------------------------------------------------------------- elements

element -> keyConcat elementOption:* {% (d) => ({ u: 'element', key: d[0], opts: d[1], data: null }) %}
         | keyConcat elementOption:* ":" elementData {% (d) => ({ u: 'element', key: d[0], opts: d[1], data: d[3] }) %}

keyConcat -> keyPart {% id %}
           | keyConcat "." keyPart {% (d) => (d[0].e === 'concat' ? { e: 'concat', parts: [...d[0].parts, d[2]] } : { e: 'concat', parts: [d[0], d[2]] }) %}
keyPart -> rhsValue {% (d) => ({ e: 'value', v: d[0] }) %}
         | lhsPrimary {% id %}

elementOption -> ("timeout" | "expires") timeValue {% (d) => ({ k: d[0][0].value, i: d[1] }) %}
               | "comment" %Q {% (d) => ({ k: 'comment', i: I(d[1]) }) %}
               | "counter" {% () => ({ k: 'counter', packets: -1, bytes: -1 }) %}
               | "counter" "packets" %N "bytes" %N {% (d) => ({ k: 'counter', packets: I(d[2]), bytes: I(d[4]) }) %}

elementData -> verdict {% id %}
             | dataConcat {% id %}
dataConcat -> rhsValue {% (d) => ({ e: 'value', v: d[0] }) %}
            | dataConcat "." rhsValue {% (d) => (d[0].e === 'concat' ? { e: 'concat', parts: [...d[0].parts, { e: 'value', v: d[2] }] } : { e: 'concat', parts: [d[0], { e: 'value', v: d[2] }] }) %}

verdict -> ("accept" | "drop" | "continue" | "return") {% (d) => ({ e: 'verdict', verdict: d[0][0].i, chain: -1 }) %}
         | ("jump" | "goto") name {% (d) => ({ e: 'verdict', verdict: d[0][0].i, chain: I(d[1]) }) %}

# ----------------------------------------------------------------------------------- rules

rule -> stmt:+ {% (d) => ({ u: 'rule', stmts: d[0] }) %}

stmt -> match {% id %}
      | verdict {% (d) => ({ s: 'verdict', verdict: d[0].verdict, chain: d[0].chain }) %}
      | lhsConcat "vmap" (%SET | %REF) {% (d) => ({ s: 'vmap', key: d[0], map: setOrRef(d[2][0]) }) %}
      | "counter" {% () => ({ s: 'counter', packets: -1, bytes: -1 }) %}
      | "counter" "packets" %N "bytes" %N {% (d) => ({ s: 'counter', packets: I(d[2]), bytes: I(d[4]) }) %}
      | nat {% id %}
      | reject {% id %}
      | lhsPrimary "set" setValue {% (d) => ({ s: 'set', target: d[0], value: d[2] }) %}
      | ("update" | "add" | "delete") %REF %SET {% (d) => ({ s: 'update', op: d[0][0].i, ref: I(d[1]), set: I(d[2]) }) %}
      | "log" logOption:* {% (d) => ({ s: 'log', opts: d[1] }) %}
      | limit {% id %}
      | "comment" %Q {% (d) => ({ s: 'comment', i: I(d[1]) }) %}
      | "notrack" {% () => ({ s: 'notrack' }) %}
      | "xt" ("match" | "target" | "watcher") (%W | %Q | %kw) {% (d) => ({ s: 'xt', type: d[1][0].i, name: d[2][0].i }) %}

match -> lhsConcat rhs {% (d) => ({ s: 'match', left: d[0], op: -1, right: d[1] }) %}
       | lhsConcat relop rhs {% (d) => ({ s: 'match', left: d[0], op: d[1], right: d[2] }) %}

relop -> ("==" | "!=" | "<" | ">" | "<=" | ">=" | "eq" | "ne" | "lt" | "gt" | "le" | "ge") {% (d) => d[0][0].i %}

lhsConcat -> lhsBinary {% id %}
           | lhsConcat "." lhsBinary {% (d) => (d[0].e === 'concat' ? { e: 'concat', parts: [...d[0].parts, d[2]] } : { e: 'concat', parts: [d[0], d[2]] }) %}

lhsBinary -> lhsPrimary {% id %}
           | lhsBinary binop operand {% (d) => ({ e: 'binary', op: d[1], left: d[0], right: d[2] }) %}

binop -> ("&" | "|" | "^" | "<<" | ">>" | "and" | "or" | "xor" | "lshift" | "rshift") {% (d) => d[0][0].i %}

operand -> rhsValue {% (d) => ({ e: 'value', v: d[0] }) %}
         | "(" valueBinary ")" {% (d) => ({ e: 'paren', expr: d[1] }) %}

valueBinary -> operand {% id %}
             | valueBinary binop operand {% (d) => ({ e: 'binary', op: d[1], left: d[0], right: d[2] }) %}

lhsPrimary -> payload {% id %}
            | meta {% id %}
            | ct {% id %}
            | fib {% id %}
            | numgen {% id %}
            | hash {% id %}

payload -> payloadProtocol payloadField {% (d) => ({ e: 'payload', proto: d[0], field: d[1] }) %}
payloadProtocol -> ("ip" | "ip6" | "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "th" | "icmp" | "icmpv6" | "igmp" | "ether" | "vlan" | "arp" | "ah" | "esp" | "comp") {% (d) => d[0][0].i %}
# The header fields nft knows (datatypes.ts PAYLOAD_FIELDS; a test keeps the two lists equal).
payloadField -> ("ackseq" | "cfi" | "checksum" | "code" | "cpi" | "csumcov" | "daddr" | "dei" | "doff" | "dport" | "dscp" | "ecn" | "flags" | "flowlabel" | "frag-off" | "gateway" | "group" | "hdrlength" | "hlen" | "hoplimit" | "htype" | "id" | "length" | "max-delay" | "mrt" | "mtu" | "nexthdr" | "operation" | "pcp" | "plen" | "protocol" | "ptype" | "reserved" | "saddr" | "sequence" | "spi" | "sport" | "taddr" | "ttl" | "type" | "urgptr" | "version" | "vtag" | "window") {% (d) => d[0][0].i %}

meta -> "meta" (%W | metaBareKey | "l4proto" | "nfproto" | "protocol" | "length" | "priority" | "random" | "secmark") {% (d) => ({ e: 'meta', key: d[1][0].i, bare: false }) %}
      | metaBareKey {% (d) => ({ e: 'meta', key: d[0].i, bare: true }) %}
metaBareKey -> ("mark" | "iif" | "iifname" | "iiftype" | "oif" | "oifname" | "oiftype" | "skuid" | "skgid" | "nftrace" | "rtclassid" | "pkttype" | "cpu" | "iifgroup" | "oifgroup" | "cgroup") {% (d) => d[0][0] %}

ct -> "ct" ctKey {% (d) => ({ e: 'ct', key: d[1], dir: -1, fam: -1 }) %}
    | "ct" ("original" | "reply") ctDirKey {% (d) => ({ e: 'ct', key: d[2], dir: d[1][0].i, fam: -1 }) %}
    | "ct" ("original" | "reply") ("ip" | "ip6") ctDirKey {% (d) => ({ e: 'ct', key: d[3], dir: d[1][0].i, fam: d[2][0].i }) %}
ctKey -> (%W | "state" | "status" | "direction" | "mark" | "protocol" | "bytes" | "packets" | "id" | "secmark") {% (d) => d[0][0].i %}
ctDirKey -> (%W | "saddr" | "daddr" | "protocol" | "bytes" | "packets") {% (d) => d[0][0].i %}

fib -> "fib" fibFlags fibResult {% (d) => ({ e: 'fib', flags: d[1], result: d[2] }) %}
fibFlags -> fibFlag {% (d) => [d[0]] %}
          | fibFlags "." fibFlag {% (d) => [...d[0], d[2]] %}
fibFlag -> ("saddr" | "daddr" | "mark" | "iif" | "oif") {% (d) => d[0][0].i %}
fibResult -> ("type" | "oif" | "oifname") {% (d) => d[0][0].i %}

numgen -> "numgen" ("random" | "inc") "mod" %N offset:? {% (d) => ({ e: 'numgen', mode: d[1][0].i, mod: I(d[3]), offset: d[4] === null ? -1 : d[4] }) %}
offset -> "offset" %N {% (d) => I(d[1]) %}

hash -> "jhash" lhsConcat "mod" %N seed:? offset:? {% (d) => ({ e: 'hash', fn: I(d[0]), expr: d[1], mod: I(d[3]), seed: d[4] === null ? -1 : d[4], offset: d[5] === null ? -1 : d[5] }) %}
      | "symhash" "mod" %N offset:? {% (d) => ({ e: 'hash', fn: I(d[0]), expr: null, mod: I(d[2]), seed: -1, offset: d[3] === null ? -1 : d[3] }) %}
seed -> "seed" %N {% (d) => I(d[1]) %}

# The right side of a match: one value, a concatenation, a set, `@set`, a flag list, or a mask.
rhs -> rhsConcat {% id %}
     | %SET {% (d) => ({ e: 'set', i: I(d[0]) }) %}
     | %REF {% (d) => ({ e: 'ref', i: I(d[0]) }) %}
     | flagWord "," flagWords {% (d) => ({ e: 'value', v: { v: 'list', items: [d[0], ...d[2]] } }) %}
     | flagGroup "/" flagGroup {% (d) => ({ e: 'masked', value: d[0], mask: d[2] }) %}

flagWords -> flagWord {% (d) => [d[0]] %}
           | flagWords "," flagWord {% (d) => [...d[0], d[2]] %}
flagWord -> (%W | %N) {% (d) => ({ v: 'tok', i: d[0][0].i }) %}
flagGroup -> flagWords {% (d) => (d[0].length === 1 ? { e: 'value', v: d[0][0] } : { e: 'value', v: { v: 'list', items: d[0] } }) %}

rhsConcat -> rhsValue {% (d) => ({ e: 'value', v: d[0] }) %}
           | rhsConcat "." rhsValue {% (d) => (d[0].e === 'concat' ? { e: 'concat', parts: [...d[0].parts, { e: 'value', v: d[2] }] } : { e: 'concat', parts: [d[0], { e: 'value', v: d[2] }] }) %}

rhsValue -> value {% id %}
          | (%A4 | %A6) "/" %N {% (d) => ({ v: 'prefix', base: d[0][0].i, len: I(d[2]) }) %}
          | rangeEnd "-" rangeEnd {% (d) => ({ v: 'range', from: d[0], to: d[2] }) %}

value -> (%A4 | %A6 | %N | %W | %Q | %T | %MAC | %VAR | valueKeyword) {% (d) => ({ v: 'tok', i: d[0][0].i }) %}
# Keywords that are also names of values: protocols, families, `ct direction reply`,
# `ct status dnat`, `icmp type redirect`.
valueKeyword -> ("ip" | "ip6" | "inet" | "arp" | "bridge" | "netdev" | "tcp" | "udp" | "udplite" | "sctp" | "dccp" | "icmp" | "icmpv6" | "igmp" | "esp" | "ah" | "comp" | "original" | "reply" | "snat" | "dnat" | "redirect" | "vlan") {% (d) => d[0][0] %}
rangeEnd -> (%N | %A4 | %A6) {% (d) => ({ v: 'tok', i: d[0][0].i }) %}

setValue -> setOperand {% id %}
          | setValue binop setOperand {% (d) => ({ e: 'binary', op: d[1], left: d[0], right: d[2] }) %}
setOperand -> lhsPrimary {% id %}
            | value {% (d) => ({ e: 'value', v: d[0] }) %}

# --------------------------------------------------------------------------- statements

nat -> ("snat" | "dnat") natFamily:? "to" natTarget natFlags:?
         {% (d) => ({ s: 'nat', type: d[0][0].i, fam: d[1] === null ? -1 : d[1], to: true, ...d[3], flags: d[4] ?? [] }) %}
     | ("masquerade" | "redirect") natFlags:?
         {% (d) => ({ s: 'nat', type: d[0][0].i, fam: -1, to: false, addr: null, port: null, bracketed: false, flags: d[1] ?? [] }) %}
     | ("masquerade" | "redirect") "to" ":" natPort natFlags:?
         {% (d) => ({ s: 'nat', type: d[0][0].i, fam: -1, to: true, addr: null, port: d[3], bracketed: false, flags: d[4] ?? [] }) %}

natFamily -> ("ip" | "ip6") {% (d) => d[0][0].i %}

natTarget -> natAddress {% (d) => ({ addr: d[0], port: null, bracketed: false }) %}
           | natAddress ":" natPort {% (d) => ({ addr: d[0], port: d[2], bracketed: false }) %}
           | "[" %A6 "]" ":" natPort {% (d) => ({ addr: { e: 'value', v: { v: 'tok', i: I(d[1]) } }, port: d[4], bracketed: true }) %}
           | ":" natPort {% (d) => ({ addr: null, port: d[1], bracketed: false }) %}

natAddress -> (%A4 | %A6) {% (d) => ({ e: 'value', v: { v: 'tok', i: d[0][0].i } }) %}
            | (%A4 | %A6) "-" (%A4 | %A6) {% (d) => ({ e: 'value', v: { v: 'range', from: { v: 'tok', i: d[0][0].i }, to: { v: 'tok', i: d[2][0].i } } }) %}
            | lhsConcat "map" (%SET | %REF) {% (d) => ({ e: 'map', key: d[0], map: setOrRef(d[2][0]) }) %}

natPort -> %N {% (d) => ({ e: 'value', v: { v: 'tok', i: I(d[0]) } }) %}
         | %N "-" %N {% (d) => ({ e: 'value', v: { v: 'range', from: { v: 'tok', i: I(d[0]) }, to: { v: 'tok', i: I(d[2]) } } }) %}

natFlags -> natFlag {% (d) => [d[0]] %}
          | natFlags "," natFlag {% (d) => [...d[0], d[2]] %}
natFlag -> ("random" | "fully-random" | "persistent") {% (d) => d[0][0].i %}

reject -> "reject" {% () => ({ s: 'reject', fam: -1, typeWord: -1, code: -1 }) %}
        | "reject" "with" ("icmp" | "icmpv6" | "icmpx") "type":? (%W | %N) {% (d) => ({ s: 'reject', fam: d[2][0].i, typeWord: opt(d[3]), code: d[4][0].i }) %}
        | "reject" "with" "tcp" "reset" {% (d) => ({ s: 'reject', fam: I(d[2]), typeWord: -1, code: I(d[3]) }) %}

logOption -> "prefix" %Q {% (d) => ({ k: I(d[0]), i: I(d[1]) }) %}
           | ("level" | "flags") %W {% (d) => ({ k: d[0][0].i, i: I(d[1]) }) %}
           | ("group" | "snaplen" | "queue-threshold") %N {% (d) => ({ k: d[0][0].i, i: I(d[1]) }) %}

limit -> "limit" "rate" "over":? %N "/" %W burst:? {% (d) => ({ s: 'limit', over: opt(d[2]), rate: I(d[3]), unit: -1, per: I(d[5]), burst: d[6] }) %}
       | "limit" "rate" "over":? %N %W burst:? {% (d) => ({ s: 'limit', over: opt(d[2]), rate: I(d[3]), unit: I(d[4]), per: -1, burst: d[5] }) %}
burst -> "burst" %N ("packets" | %W):? {% (d) => ({ i: I(d[1]), unit: d[2] ? d[2][0].i : -1 }) %}
