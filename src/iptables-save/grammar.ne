# The syntax of one line of iptables-save / iptables-restore text, over the line's shape (see
# lexer.ts and line-scanner.ts: every word is replaced by its kind, so the grammar runs once per
# distinct shape).
#
# What the lines mean is iptables-restore's (iptables/iptables-restore.c in iptables 1.8):
#   *TABLE                          start a table
#   :CHAIN POLICY [packets:bytes]   declare (and flush) a chain; user chains have policy `-`
#   COMMIT                          end the table
#   [packets:bytes] -A CHAIN ...    a rule, with counters when saved by `iptables-save -c`
#   -I CHAIN [N] ... / -D CHAIN N|... / -R CHAIN N ...   other commands restore input may hold
#   -N CHAIN / -X [CHAIN] / -F [CHAIN] / -Z [CHAIN] / -P CHAIN POLICY
# A rule's arguments are options with their values, `!` before an option (`! -s X`) or, the old
# way, after it (`-s ! X`), `-m MODULE`, `-j TARGET` and `-g CHAIN`. Which option takes how many
# values is the vocabulary's business (spec.ts), checked when the shape is planned (plan.ts).

@preprocessor esmodule

@{%
// The moo lexer over shapes (lexer.ts) is attached at run time; nearleyc only needs to know that
// %tokens are lexer token types.
const lexer = { has: () => true };
%}

@lexer lexer

line -> table {% id %}
      | chain {% id %}
      | commit {% id %}
      | command {% id %}

table -> %star name {% (d) => ({ kind: 'table', name: d[1] }) %}

chain -> %colon name %value %counters:? {% (d) => ({ kind: 'chain', name: d[1], policy: d[2], counters: d[3] }) %}

name -> %part {% id %} | %value {% id %}

commit -> %commit {% () => ({ kind: 'commit' }) %}

command -> %counters:? %append %value items
             {% (d) => ({ kind: 'rule', op: 'A', counters: d[0], chain: d[2], position: null, items: d[3] }) %}
         | %counters:? %insert %value %value:? items
             {% (d) => ({ kind: 'rule', op: 'I', counters: d[0], chain: d[2], position: d[3], items: d[4] }) %}
         | %counters:? %replace %value %value items
             {% (d) => ({ kind: 'rule', op: 'R', counters: d[0], chain: d[2], position: d[3], items: d[4] }) %}
         | %deleteRule %value %value
             {% (d) => ({ kind: 'rule', op: 'D', counters: null, chain: d[1], position: d[2], items: [] }) %}
         | %deleteRule %value items
             {% (d) => ({ kind: 'rule', op: 'D', counters: null, chain: d[1], position: null, items: d[2] }) %}
         | %newChain %value {% (d) => ({ kind: 'chainCommand', op: 'N', chain: d[1], policy: null, counters: null }) %}
         | %deleteChain %value:? {% (d) => ({ kind: 'chainCommand', op: 'X', chain: d[1], policy: null, counters: null }) %}
         | %flush %value:? {% (d) => ({ kind: 'chainCommand', op: 'F', chain: d[1], policy: null, counters: null }) %}
         | %zero %value:? {% (d) => ({ kind: 'chainCommand', op: 'Z', chain: d[1], policy: null, counters: null }) %}
         | %policy %value %value %counters:?
             {% (d) => ({ kind: 'chainCommand', op: 'P', chain: d[1], policy: d[2], counters: d[3] }) %}

items -> item:* {% id %}

item -> %option value:*
          {% (d) => ({ kind: 'option', bang: null, infix: false, option: d[0], values: d[1] }) %}
      | %bang %option value:*
          {% (d) => ({ kind: 'option', bang: d[0], infix: false, option: d[1], values: d[2] }) %}
      | %option %bang value value:*
          {% (d) => ({ kind: 'option', bang: d[1], infix: true, option: d[0], values: [d[2], ...d[3]] }) %}
      | %match %name {% (d) => ({ kind: 'match', keyword: d[0], name: d[1] }) %}
      | %jump target {% (d) => ({ kind: 'jump', keyword: d[0], name: d[1] }) %}
      | %goto %value {% (d) => ({ kind: 'goto', keyword: d[0], name: d[1] }) %}

target -> %name {% id %} | %value {% id %}

value -> %value {% id %} | %quoted {% id %} | %protocol {% id %}
