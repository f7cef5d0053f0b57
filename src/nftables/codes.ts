// Diagnostic codes of the nftables reader. Tests assert on these, never on message wording; the
// messages use nft's own wording where nft has one (`nft -c -f`, nftables 1.0.x).

export type NftCode =
  // text
  | 'NFT_SYNTAX' // the text does not fit nft's grammar: "syntax error, unexpected ..."
  | 'NFT_UNTERMINATED_QUOTE' // `"abc` without its closing quote (nft: "unexpected junk")
  | 'NFT_BINARY' // NUL or another control byte: this is not nft text
  | 'NFT_TOO_LONG' // a statement or a nesting longer than kpsim reads (bounded work on hostile input)
  | 'NFT_UNBALANCED' // a `}` without its `{`, or a `{` never closed (nft: "unexpected end of file")
  // values
  | 'NFT_BAD_ADDRESS' // nft: "Could not resolve hostname"
  | 'NFT_BAD_PREFIX' // nft: "Prefix length 33 is invalid for type of 32 bits width"
  | 'NFT_BAD_PORT' // nft: "Service out of range"
  | 'NFT_BAD_NUMBER' // a number that does not fit its field ("Value 4294967296 exceeds valid range 0-4294967295")
  | 'NFT_BAD_PROTOCOL' // nft: "Could not resolve protocol name"
  | 'NFT_BAD_SYMBOL' // a name outside the field's list: "Could not parse conntrack state", ...
  | 'NFT_BAD_TIME' // a time with units out of order or repeated (`1h1d`), which nft refuses
  | 'NFT_BAD_HOOK' // nft: "unknown chain hook"
  | 'NFT_BAD_PRIORITY' // nft: "invalid priority expression value in this context."
  | 'NFT_BAD_TYPE' // `type foo` on a set: nft: "unknown datatype foo"
  | 'NFT_BAD_VALUE' // `numgen ... mod 0`, a reversed range, a value of the wrong type (nft's message)
  // applying a file to the kernel's state (state.ts), as nft -f does
  | 'NFT_NO_SUCH' // a chain, set, table or jump target that does not exist (yet): "No such file or directory"
  | 'NFT_EXISTS' // `create` of what exists: "File exists"
  | 'NFT_BUSY' // deleting a chain some rule jumps to: "Device or resource busy"
  // modelling
  | 'NFT_NOT_MODELLED'; // valid nft that kpsim keeps as written and does not interpret (a warning)
