// Types for the `bencode` npm package (v4), the reference the benchmark compares against; it ships none.
declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array
    decode(bytes: Uint8Array): unknown
  }
  export default bencode
}
