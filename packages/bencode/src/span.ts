// Finds where a nested value sits in the input without decoding it, so callers can hash the exact
// bytes they were given (the `info` dict of a torrent) instead of a re-encoding of them.
import { BencodeDecodeError } from './errors.js'

/** Half-open byte range `[start, end)` of a value inside its input. */
export interface ByteSpan {
  start: number
  end: number
}

/** A step into a value: a dictionary key (binary string) or a list index. */
export type SpanPathStep = string | number

/**
 * The span of the value reached by following `path` from the value at the start of `bytes`,
 * e.g. `spanOf(torrent, ['info'])`. Throws `BencodeDecodeError` (`NOT_FOUND`) if the path is absent.
 */
export function spanOf(bytes: Uint8Array, path: readonly SpanPathStep[], maxDepth = 256): ByteSpan {
  let start = 0
  for (const step of path) {
    start = childStart(bytes, start, step, maxDepth)
  }
  return { start, end: skipValue(bytes, start, 0, maxDepth) }
}

function childStart(bytes: Uint8Array, at: number, step: SpanPathStep, maxDepth: number): number {
  const kind = byteAt(bytes, at)
  if (typeof step === 'number') {
    if (kind !== 0x6c) throw notFound(at, `index ${step}: not a list`)
    let pos = at + 1
    for (let index = 0; byteAt(bytes, pos) !== 0x65; index++) {
      if (index === step) return pos
      pos = skipValue(bytes, pos, 1, maxDepth)
    }
    throw notFound(at, `index ${step}: list is shorter`)
  }
  if (kind !== 0x64) throw notFound(at, `key ${JSON.stringify(step)}: not a dictionary`)
  let pos = at + 1
  while (byteAt(bytes, pos) !== 0x65) {
    const [keyStart, keyEnd] = stringBounds(bytes, pos)
    pos = keyEnd
    if (keyEquals(bytes, keyStart, keyEnd, step)) return pos
    pos = skipValue(bytes, pos, 1, maxDepth)
  }
  throw notFound(at, `key ${JSON.stringify(step)}: not in dictionary`)
}

function skipValue(bytes: Uint8Array, pos: number, depth: number, maxDepth: number): number {
  const byte = byteAt(bytes, pos)
  if (byte === 0x69) {
    let end = pos + 1
    while (byteAt(bytes, end) !== 0x65) end++
    return end + 1
  }
  if (byte >= 0x30 && byte <= 0x39) return stringBounds(bytes, pos)[1]
  if (byte === 0x6c || byte === 0x64) {
    if (depth + 1 > maxDepth) {
      throw new BencodeDecodeError('DEPTH_EXCEEDED', pos, `nesting deeper than ${maxDepth}`)
    }
    let inner = pos + 1
    while (byteAt(bytes, inner) !== 0x65) {
      if (byte === 0x64) inner = stringBounds(bytes, inner)[1]
      inner = skipValue(bytes, inner, depth + 1, maxDepth)
    }
    return inner + 1
  }
  throw new BencodeDecodeError(
    'UNEXPECTED_BYTE',
    pos,
    `unexpected byte 0x${byte.toString(16)}, expected a value`,
  )
}

/** Payload start and end of the byte string at `pos`. */
function stringBounds(bytes: Uint8Array, pos: number): [number, number] {
  let length = 0
  let at = pos
  while (true) {
    const byte = byteAt(bytes, at)
    if (byte === 0x3a) break
    if (byte < 0x30 || byte > 0x39) {
      throw new BencodeDecodeError('INVALID_LENGTH', at, 'expected a byte string')
    }
    length = length * 10 + (byte - 0x30)
    if (length > bytes.length)
      throw new BencodeDecodeError('UNEXPECTED_END', pos, 'string length exceeds the input')
    at++
  }
  const start = at + 1
  if (start + length > bytes.length) {
    throw new BencodeDecodeError('UNEXPECTED_END', pos, 'string length exceeds the input')
  }
  return [start, start + length]
}

function keyEquals(bytes: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false
  for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false
  return true
}

function byteAt(bytes: Uint8Array, pos: number): number {
  const byte = bytes[pos]
  if (byte === undefined) throw new BencodeDecodeError('UNEXPECTED_END', pos, 'unexpected end of input')
  return byte
}

function notFound(offset: number, message: string): BencodeDecodeError {
  return new BencodeDecodeError('NOT_FOUND', offset, message)
}
