// The decoded shape of bencode. Byte strings stay bytes; dictionary keys are "binary strings"
// (one UTF-16 code unit per byte, 0–255) so any key — text or a raw 20-byte info hash — round-trips.

/** What `decode` returns. Integers are `number` when safe (|n| ≤ 2^53 − 1), `bigint` beyond. */
export type BencodeValue = Uint8Array | number | bigint | BencodeValue[] | BencodeDict

/** A dictionary in input order, keyed by binary strings. A `Map`, so it never touches `Object.prototype`. */
export type BencodeDict = Map<string, BencodeValue>

/**
 * What `encode` accepts: everything `decode` returns, plus JS strings (encoded as UTF-8), and plain
 * objects as dictionaries. Dictionary entries whose value is `undefined` are left out.
 */
export type BencodeInput =
  | Uint8Array
  | string
  | number
  | bigint
  | readonly BencodeInput[]
  | ReadonlyMap<string, BencodeInput | undefined>
  | { readonly [key: string]: BencodeInput | undefined }
