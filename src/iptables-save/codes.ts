// Diagnostic codes of the iptables-save reader. Tests assert on these, never on message wording.

export type IptCode =
  // lines and structure
  | 'IPT_SYNTAX' // the line does not fit the grammar (the message says what was expected)
  | 'IPT_OUTSIDE_TABLE' // a chain, rule or COMMIT before any `*table`
  | 'IPT_MISSING_COMMIT' // a table not closed by COMMIT (a new `*table` or the end of the file)
  | 'IPT_UNKNOWN_TABLE' // `*foo`
  | 'IPT_DUPLICATE_TABLE' // the same table twice in one file
  | 'IPT_DUPLICATE_CHAIN' // `:X` declared twice in one table
  | 'IPT_BAD_POLICY' // a built-in chain without ACCEPT/DROP, or a user chain with one
  | 'IPT_UNDECLARED_CHAIN' // a rule in a chain the table never declared
  | 'IPT_UNKNOWN_CHAIN' // a jump or goto to a chain that is not declared
  | 'IPT_BAD_COUNTERS' // `[packets:bytes]` that are not two decimal numbers
  | 'IPT_UNTERMINATED_QUOTE'
  | 'IPT_BINARY' // NUL or other control bytes in the text
  | 'IPT_LINE_TOO_LONG' // a token longer than iptables' 1024-byte parameter buffer
  // arguments
  | 'IPT_UNKNOWN_OPTION' // an option no loaded module takes
  | 'IPT_UNKNOWN_MODULE' // `-m foo` not modelled (a warning; an error with strict)
  | 'IPT_UNKNOWN_TARGET' // `-j FOO` extension not modelled (a warning; an error with strict)
  | 'IPT_MISSING_VALUE' // an option without its value(s)
  | 'IPT_UNEXPECTED_ARGUMENT' // a word no option takes (`--comment two words` without quotes)
  | 'IPT_BAD_NEGATION' // `!` on an option that cannot be negated
  | 'IPT_DUPLICATE_OPTION' // `-p` twice, two targets, ...
  | 'IPT_WRONG_FAMILY' // `-m icmp` in an IPv6 file, `-f` with ip6tables
  // values
  | 'IPT_BAD_ADDRESS'
  | 'IPT_BAD_PORT'
  | 'IPT_BAD_NUMBER'
  | 'IPT_BAD_MARK'
  | 'IPT_BAD_PROTOCOL'
  | 'IPT_BAD_INTERFACE'
  | 'IPT_BAD_PROBABILITY'
  | 'IPT_BAD_VALUE'; // a word outside the option's list of names (ctstate, reject-with, ...)

