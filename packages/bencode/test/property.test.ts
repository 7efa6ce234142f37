// Property tests: round trips, canonical output, spanOf against decode, and garbage input that may
// only ever end in BencodeDecodeError.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BencodeDecodeError,
  type BencodeDict,
  type BencodeInput,
  type BencodeValue,
  bytesToKey,
  type DecodeOptions,
  decode,
  decodePrefix,
  encode,
  type SpanPathStep,
  spanOf,
} from '../src/index.js'

const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)

/** Binary-string keys from a small alphabet (so keys collide and share prefixes) or any bytes. */
const keyArb = fc.oneof(
  fc.uint8Array({ maxLength: 4 }).map((bytes) => bytesToKey(bytes.map((byte) => 0x61 + (byte % 3)))),
  fc.uint8Array({ maxLength: 20 }).map(bytesToKey),
)

const integerArb = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -10, max: 10 }),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 256n }),
  fc.bigInt({ min: -(2n ** 256n), max: -(2n ** 53n) }),
)

/** Values exactly as decode returns them: safe integers as numbers, dictionaries sorted. */
const { value: valueArb } = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 24 }),
    integerArb,
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(keyArb, tie('value')), { selector: (entry) => entry[0], maxLength: 5 })
      .map((entries): BencodeDict => new Map(entries.sort(byKey))),
  ),
}))

/** What encode accepts besides: JS strings, plain objects, dictionaries in any order, undefined entries. */
const { input: inputArb } = fc.letrec<{ input: BencodeInput }>((tie) => ({
  input: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 24 }),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    integerArb,
    fc.array(tie('input'), { maxLength: 5 }),
    fc.dictionary(keyArb, fc.option(tie('input'), { nil: undefined }), { maxKeys: 5 }),
    fc
      .uniqueArray(fc.tuple(keyArb, tie('input')), { selector: (entry) => entry[0], maxLength: 5 })
      .map((entries) => new Map(entries)),
  ),
}))

/** Order-sensitive structural equality that tells numbers from bigints. */
function same(a: BencodeValue, b: BencodeValue): boolean {
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(a, b) === 0
  if (typeof a === 'number' || typeof a === 'bigint') return a === b
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]!))
  if (!(b instanceof Map) || a.size !== b.size) return false
  const left = [...a]
  const right = [...b]
  return left.every(([key, value], i) => key === right[i]![0] && same(value, right[i]![1]))
}

/** The value decode would give at `path`, or undefined. */
function at(value: BencodeValue, path: readonly SpanPathStep[]): BencodeValue | undefined {
  let current: BencodeValue | undefined = value
  for (const step of path) {
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined
    else current = current instanceof Map ? current.get(step) : undefined
    if (current === undefined) return undefined
  }
  return current
}

/** Every path into `value`, the empty one first. */
function pathsOf(
  value: BencodeValue,
  prefix: SpanPathStep[] = [],
  out: SpanPathStep[][] = [],
): SpanPathStep[][] {
  out.push(prefix)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) pathsOf(value[i]!, [...prefix, i], out)
  } else if (value instanceof Map) {
    for (const [key, item] of value) pathsOf(item, [...prefix, key], out)
  }
  return out
}

const SYNTAX = [...'ilde:-0123456789'].map((c) => c.charCodeAt(0))
const mutationArb = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
  byte: fc.oneof(fc.constantFrom(...SYNTAX), fc.integer({ min: 0, max: 255 })),
})

function mutate(bytes: Uint8Array, mutations: { at: number; op: string; byte: number }[]): Uint8Array {
  const out = [...bytes]
  for (const { at, op, byte } of mutations) {
    if (op === 'insert') out.splice(at % (out.length + 1), 0, byte)
    else if (out.length === 0) continue
    else if (op === 'set') out[at % out.length] = byte
    else if (op === 'delete') out.splice(at % out.length, 1)
    else out.length = at % out.length
  }
  return Uint8Array.from(out)
}

/** Mutated encodings of arbitrary values: mostly almost-valid bencode, the hardest input. */
const garbageArb = fc.oneof(
  fc
    .tuple(valueArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([v, m]) => mutate(encode(v), m)),
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.constantFrom(...SYNTAX), { maxLength: 64 }).map((bytes) => Uint8Array.from(bytes)),
)

/**
 * Valid bencode that may break the canonical rules (leading zeros, `-0`, keys in any order, duplicate
 * keys), built with the value lenient decoding must give for it and whether it is canonical.
 */
interface Loose {
  bytes: number[]
  value: BencodeValue
  canonical: boolean
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))

const { loose: looseArb } = fc.letrec<{ loose: Loose }>((tie) => ({
  loose: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.uint8Array({ maxLength: 8 }), fc.nat(2)).map(([bytes, zeros]) => ({
      bytes: [...ascii('0'.repeat(zeros) + bytes.length), 0x3a, ...bytes],
      value: bytes,
      canonical: zeros === 0,
    })),
    fc.tuple(integerArb, fc.nat(2), fc.boolean()).map(([n, zeros, minus]) => {
      const digits = '0'.repeat(zeros) + (n < 0 ? -BigInt(n) : BigInt(n)).toString()
      const negative = n < 0 || (n === 0 && minus)
      return {
        bytes: ascii(`i${negative ? '-' : ''}${digits}e`),
        value: n === 0 ? 0 : n,
        canonical: zeros === 0 && !(n === 0 && minus),
      }
    }),
    fc.array(tie('loose'), { maxLength: 4 }).map((items) => ({
      bytes: [0x6c, ...items.flatMap((item) => item.bytes), 0x65],
      value: items.map((item) => item.value),
      canonical: items.every((item) => item.canonical),
    })),
    fc.array(fc.tuple(keyArb, tie('loose')), { maxLength: 4 }).map((entries) => {
      const value: BencodeDict = new Map()
      for (const [key, item] of entries) if (!value.has(key)) value.set(key, item.value)
      return {
        bytes: [
          0x64,
          ...entries.flatMap(([key, item]) => [...ascii(`${key.length}:`), ...ascii(key), ...item.bytes]),
          0x65,
        ],
        value,
        canonical:
          entries.every(([, item]) => item.canonical) &&
          entries.every(([key], i) => i === 0 || entries[i - 1]![0] < key),
      }
    }),
  ),
}))

const optionsArb = fc.record({ strict: fc.boolean(), maxDepth: fc.integer({ min: 0, max: 8 }) })

/** Runs `fn`; returns its result or the BencodeDecodeError it threw. Anything else fails the test. */
function outcome<T>(fn: () => T): T | BencodeDecodeError {
  try {
    return fn()
  } catch (error) {
    if (error instanceof BencodeDecodeError) return error
    throw error
  }
}

describe('properties', () => {
  it('decode(encode(x)) is x, with integers as number or bigint exactly as given', () => {
    fc.assert(fc.property(valueArb, (value) => same(decode(encode(value)), value)))
  })

  it('encode output is canonical: strict decode accepts it and re-encoding reproduces it', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const bytes = encode(input)
        expect(Buffer.compare(encode(decode(bytes)), bytes)).toBe(0)
      }),
    )
  })

  it('strict decode accepts only canonical bytes: whatever it accepts re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(garbageArb, (bytes) => {
        const value = outcome(() => decode(bytes))
        if (!(value instanceof BencodeDecodeError)) expect(Buffer.compare(encode(value), bytes)).toBe(0)
      }),
      { numRuns: 1000 },
    )
  })

  it('garbage input only ever ends in BencodeDecodeError, with an offset inside the input', () => {
    fc.assert(
      fc.property(
        garbageArb,
        optionsArb,
        fc.array(fc.oneof(fc.nat(3), keyArb), { maxLength: 3 }),
        (bytes, options, path) => {
          for (const result of [
            outcome(() => decode(bytes, options)),
            outcome(() => decodePrefix(bytes, options)),
            outcome(() => spanOf(bytes, path, options)),
          ]) {
            if (result instanceof BencodeDecodeError) {
              expect(result.offset).toBeGreaterThanOrEqual(0)
              expect(result.offset).toBeLessThanOrEqual(bytes.length)
            }
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('spanOf finds, for every path into a value, bytes that decode to the value there', () => {
    fc.assert(
      fc.property(valueArb, (value) => {
        const bytes = encode(value)
        for (const path of pathsOf(value)) {
          const { start, end } = spanOf(bytes, path)
          expect(same(decode(bytes.subarray(start, end)), at(value, path)!)).toBe(true)
        }
      }),
    )
  })

  it('spanOf agrees with decode on any input: same error, or the span of the value at the path', () => {
    const pathArb = fc.oneof(
      fc.array(fc.oneof(fc.nat(3), keyArb), { maxLength: 3 }),
      valueArb.chain((value) => fc.constantFrom(...pathsOf(value))),
    )
    fc.assert(
      fc.property(garbageArb, pathArb, optionsArb, (bytes, path, options: DecodeOptions) => {
        const decoded = outcome(() => decode(bytes, options))
        const span = outcome(() => spanOf(bytes, path, options))
        if (decoded instanceof BencodeDecodeError) {
          expect(span).toBeInstanceOf(BencodeDecodeError)
          expect([(span as BencodeDecodeError).code, (span as BencodeDecodeError).offset]).toEqual([
            decoded.code,
            decoded.offset,
          ])
          return
        }
        const expected = at(decoded, path)
        if (expected === undefined) {
          expect((span as BencodeDecodeError).code).toBe('NOT_FOUND')
        } else {
          expect(span).not.toBeInstanceOf(BencodeDecodeError)
          const { start, end } = span as { start: number; end: number }
          expect(same(decode(bytes.subarray(start, end), { strict: false }), expected)).toBe(true)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('lenient decode reads non-canonical bencode as real clients do; strict decode rejects it', () => {
    fc.assert(
      fc.property(looseArb, (loose) => {
        const bytes = Uint8Array.from(loose.bytes)
        expect(same(decode(bytes, { strict: false }), loose.value)).toBe(true)
        const strict = outcome(() => decode(bytes))
        expect(strict instanceof BencodeDecodeError).toBe(!loose.canonical)
        if (loose.canonical) expect(same(strict as BencodeValue, loose.value)).toBe(true)
      }),
      { numRuns: 1000 },
    )
  })

  it('lenient spanOf finds the value lenient decode gives, at every path', () => {
    fc.assert(
      fc.property(looseArb, (loose) => {
        const bytes = Uint8Array.from(loose.bytes)
        for (const path of pathsOf(loose.value)) {
          const { start, end } = spanOf(bytes, path, { strict: false })
          expect(same(decode(bytes.subarray(start, end), { strict: false }), at(loose.value, path)!)).toBe(
            true,
          )
        }
      }),
      { numRuns: 500 },
    )
  })

  it('encodes any JS string, lone surrogates included, as TextEncoder does', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))
    const stringArb = fc.oneof(fc.string({ unit: codeUnit }), fc.string({ unit: 'binary' }))
    fc.assert(
      fc.property(stringArb, (text) => {
        const utf8 = new TextEncoder().encode(text)
        const header = new TextEncoder().encode(`${utf8.length}:`)
        expect(Buffer.compare(encode(text), Buffer.concat([header, utf8]))).toBe(0)
      }),
      { numRuns: 1000 },
    )
  })

  it('decodePrefix reads the value of a prefix whatever follows it', () => {
    fc.assert(
      fc.property(valueArb, fc.uint8Array({ maxLength: 16 }), (value, tail) => {
        const bytes = encode(value)
        const { value: decoded, length } = decodePrefix(new Uint8Array([...bytes, ...tail]))
        expect(length).toBe(bytes.length)
        expect(same(decoded, value)).toBe(true)
      }),
    )
  })
})
