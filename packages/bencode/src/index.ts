export { decode, decodePrefix } from './decode.js'
export { type DecodeOptions, MAX_INTEGER_DIGITS } from './decoder.js'
export { encode } from './encode.js'
export { BencodeDecodeError, type BencodeDecodeErrorCode, BencodeEncodeError } from './errors.js'
export { type ByteSpan, type SpanPathStep, spanOf } from './span.js'
export {
  bytesToKey,
  bytesToUtf8,
  bytesToUtf8Strict,
  keyToBytes,
  keyToUtf8,
  toJson,
  utf8Key,
  utf8ToBytes,
} from './text.js'
export type { BencodeDict, BencodeInput, BencodeValue } from './value.js'
