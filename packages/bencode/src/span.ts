// Finds where a nested value sits in the input, so callers can hash the exact bytes they were given
// (the `info` dict of a torrent) instead of a re-encoding of them.
import { D, type DecodeOptions, Decoder, E, L } from './decoder.js'
import { BencodeDecodeError } from './errors.js'

/** A step into a value: a dictionary key (binary string) or a list index. */
export type SpanPathStep = string | number

/** Half-open byte range `[start, end)` of a value inside its input. */
export interface ByteSpan {
  start: number
  end: number
}

/**
 * The span of the value reached by following `path` from the value that makes up `bytes`, e.g.
 * `spanOf(torrent, ['info'])`. The whole input is checked exactly as `decode` with the same options
 * checks it (pass the options you decode with), so a span is only ever returned for input `decode`
 * accepts, and `decode(bytes.subarray(start, end))` is the value `decode` gives at `path`. A duplicate
 * key (lenient mode) resolves to its first occurrence, as in `decode`. Throws `BencodeDecodeError`,
 * with code `NOT_FOUND` if the input is valid but the path is absent.
 */
export function spanOf(
  bytes: Uint8Array,
  path: readonly SpanPathStep[],
  options: DecodeOptions = {},
): ByteSpan {
  const search = new Search(new Decoder(bytes, options), path)
  let span: ByteSpan | undefined
  try {
    span = search.find(0, 0)
  } catch (error) {
    throw search.decoder.failure(error)
  }
  search.decoder.end()
  // Reported only now: malformed input after a missing step is the better error.
  if (search.missing !== undefined) throw search.missing
  return span!
}

class Search {
  /** Why the path was not found, reported once the whole input has been checked. */
  missing: BencodeDecodeError | undefined

  constructor(
    readonly decoder: Decoder,
    private readonly path: readonly SpanPathStep[],
  ) {}

  /**
   * Checks the value at the decoder's position like `skip`, and returns the span of the value that
   * `path[index..]` leads to inside it (undefined, with `missing` set, when there is none).
   */
  find(index: number, depth: number): ByteSpan | undefined {
    const decoder = this.decoder
    const start = decoder.pos
    if (index === this.path.length) {
      decoder.skip(depth)
      return { start, end: decoder.pos }
    }
    const step = this.path[index]!
    const kind = decoder.peek()
    const wanted = typeof step === 'number' ? L : D
    if (kind !== wanted) {
      decoder.skip(depth)
      this.notFound(start, `${describe(step)}: not a ${wanted === L ? 'list' : 'dictionary'}`)
      return undefined
    }
    decoder.enter(depth)
    let found: ByteSpan | undefined
    let matched = false
    let keyStart = -1
    let keyEnd = -1
    for (let position = 0; decoder.peek() !== E; position++) {
      let isStep: boolean
      if (kind === D) {
        keyStart = decoder.key(keyStart, keyEnd)
        keyEnd = decoder.pos
        isStep = !matched && keyEquals(decoder.bytes, keyStart, keyEnd, step as string)
      } else {
        isStep = position === step
      }
      if (isStep) {
        matched = true
        found = this.find(index + 1, depth + 1)
      } else {
        decoder.skip(depth + 1)
      }
    }
    decoder.pos++
    if (!matched)
      this.notFound(start, `${describe(step)}: ${kind === L ? 'list is shorter' : 'not in dictionary'}`)
    return found
  }

  private notFound(offset: number, message: string): void {
    this.missing ??= new BencodeDecodeError('NOT_FOUND', offset, message)
  }
}

function keyEquals(bytes: Uint8Array, start: number, end: number, key: string): boolean {
  if (end - start !== key.length) return false
  for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key.charCodeAt(i)) return false
  return true
}

function describe(step: SpanPathStep): string {
  return typeof step === 'number' ? `index ${step}` : `key ${JSON.stringify(step)}`
}
