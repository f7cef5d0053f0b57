// Plain scalars as the YAML 1.2 core schema resolves them, in the `yaml` library's order
// (schema/core/schema.ts): shared by the two readers without positions (fast-read.ts, block-yaml.ts).

/** What coreScalar returns for a plain scalar that is a string. */
export const NOT_CORE = Symbol('not a core scalar');

// The `yaml` library's core schema, in its order (schema/core/schema.ts): the first test that
// matches a plain scalar decides its value.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

export function coreScalar(s: string): unknown {
  // Most plain scalars are names: one look at the first character rules them out.
  const c = s.charCodeAt(0);
  const numeric = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
  if (!numeric && (s.length > 5 || (c !== 126 && c !== 110 && c !== 78 && c !== 116 && c !== 84 && c !== 102 && c !== 70 && s !== ''))) return NOT_CORE;
  // Decimal digits alone (ports, counts): what INT gives, without the tests before it (none of which matches them).
  let digits = s.length > 0;
  for (let i = 0; i < s.length && digits; i++) {
    const d = s.charCodeAt(i);
    digits = d >= 48 && d <= 57;
  }
  if (digits) return parseInt(s, 10);
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (!numeric) return NOT_CORE;
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? -Infinity : Infinity;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return NOT_CORE;
}

