import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { contentRange, decideRange, ifRangeMatches, parseRange } from './range.js'

const partial = (start: number, end: number) => ({ kind: 'partial', start, end })
const full = (reason: string) => ({ kind: 'full', reason })
const unsatisfiable = { kind: 'unsatisfiable' }

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', partial(0, 100)],
    ['bytes=999-999', partial(999, 1000)],
    ['bytes=500-', partial(500, 1000)],
    ['bytes=-100', partial(900, 1000)],
    ['bytes=-2000', partial(0, 1000)],
    ['bytes=0-5000', partial(0, 1000)],
    ['BYTES=1-2', partial(1, 3)],
    ['bytes=0-1,,', partial(0, 2)],
    ['bytes= 0-1 , 2-3', partial(0, 4)],
    ['bytes=0-10,5-20', partial(0, 21)],
    ['bytes=5-9,0-4', partial(0, 10)],
    ['bytes=0-1,2000-', partial(0, 2)],
    ['bytes=-0,10-19', partial(10, 20)],
    ['bytes=0-99999999999999999999999', partial(0, 1000)],
  ])('%s of 1000 bytes → %o', (header, decision) => {
    expect(parseRange(header, 1000)).toEqual(decision)
  })

  it.each([
    ['bytes=1000-'],
    ['bytes=1000-2000'],
    ['bytes=-0'],
    ['bytes=2000-,-0'],
    ['bytes=99999999999999999999999-'],
  ])('%s of 1000 bytes is unsatisfiable', (header) => {
    expect(parseRange(header, 1000)).toEqual(unsatisfiable)
  })

  it.each([
    ['bytes=5-4', 'invalid'],
    ['bytes=9007199254740993-9007199254740992', 'invalid'],
    ['bytes=abc', 'invalid'],
    ['bytes=', 'invalid'],
    ['bytes=,', 'invalid'],
    ['bytes=1 -2', 'invalid'],
    ['bytes=+1-2', 'invalid'],
    ['bytes=0x1-2', 'invalid'],
    ['bytes=0-1,junk', 'invalid'],
    ['bytes', 'invalid'],
    ['items=0-1', 'other-unit'],
    ['bytes=0-1,5-6', 'multiple'],
    ['bytes=-1,0-0', 'multiple'],
  ])('%s of 1000 bytes → the whole file (%s)', (header, reason) => {
    expect(parseRange(header, 1000)).toEqual(full(reason))
  })

  it('treats a range of an empty file as unsatisfiable, except a suffix range (RFC 9110 §14.1: satisfiable, yet no 206 can say "0 bytes")', () => {
    expect(parseRange('bytes=0-', 0)).toEqual(unsatisfiable)
    expect(parseRange('bytes=0-0', 0)).toEqual(unsatisfiable)
    expect(parseRange('bytes=-5', 0)).toEqual(full('empty-file'))
    expect(parseRange(undefined, 0)).toEqual(full('absent'))
  })

  // The bytes a range-spec asks for, by the RFC's words, as a set of offsets.
  type Spec = { first: number; last: number | undefined } | { suffix: number }
  const specText = (spec: Spec) =>
    'suffix' in spec ? `-${spec.suffix}` : `${spec.first}-${spec.last === undefined ? '' : spec.last}`
  const requested = (spec: Spec, size: number): number[] => {
    if ('suffix' in spec) return range(Math.max(0, size - spec.suffix), size)
    return range(spec.first, Math.min(size, spec.last === undefined ? size : spec.last + 1))
  }
  const range = (from: number, to: number) =>
    Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
  const spec: fc.Arbitrary<Spec> = fc.oneof(
    fc.tuple(fc.nat(300), fc.option(fc.nat(300), { nil: undefined })).map(([a, b]) => ({
      first: b === undefined ? a : Math.min(a, b),
      last: b === undefined ? b : Math.max(a, b),
    })),
    fc.nat(300).map((suffix) => ({ suffix })),
  )
  const bytes = (size: number) => Uint8Array.from(range(0, size), (i) => (i * 7 + 3) & 0xff)

  it('gives exactly the requested bytes for every satisfiable single range', () => {
    fc.assert(
      fc.property(fc.nat(250), spec, (size, s) => {
        const decision = parseRange(`bytes=${specText(s)}`, size)
        const wanted = requested(s, size)
        if (decision.kind === 'partial') {
          const data = bytes(size)
          expect(Array.from(data.subarray(decision.start, decision.end))).toEqual(wanted.map((i) => data[i]))
          expect(decision.end - decision.start).toBeGreaterThan(0)
        } else if (decision.kind === 'unsatisfiable') {
          expect(wanted).toEqual([])
        } else {
          // Only the suffix range of an empty file is answered whole.
          expect(decision).toEqual(full('empty-file'))
          expect(size).toBe(0)
        }
      }),
    )
  })

  it('coalesces several ranges only when their bytes form one run, and never adds or drops a byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 250 }),
        fc.array(spec, { minLength: 1, maxLength: 6 }),
        (size, specs) => {
          const decision = parseRange(`bytes=${specs.map(specText).join(',')}`, size)
          const union = [...new Set(specs.flatMap((s) => requested(s, size)))].sort((a, b) => a - b)
          const contiguous = union.every((offset, i) => i === 0 || offset === union[i - 1]! + 1)
          if (union.length === 0) expect(decision).toEqual(unsatisfiable)
          else if (contiguous) expect(decision).toEqual(partial(union[0]!, union.at(-1)! + 1))
          else expect(decision).toEqual(full('multiple'))
        },
      ),
    )
  })

  it('never throws and stays in bounds on arbitrary headers', () => {
    const pieces = fc.constantFrom(
      'bytes',
      '=',
      '-',
      ',',
      ' ',
      '0',
      '1',
      '9',
      '99999999999999999999',
      'x',
      'W/',
    )
    const header = fc.oneof(
      fc.string(),
      fc.array(pieces, { maxLength: 12 }).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(header, fc.nat(1000), (text, size) => {
        const decision = parseRange(text, size)
        if (decision.kind === 'partial') {
          expect(0 <= decision.start && decision.start < decision.end && decision.end <= size).toBe(true)
        }
      }),
    )
  })
})

describe('If-Range', () => {
  const etag = '"abc123"'

  it('applies Range only for the identical strong entity tag', () => {
    expect(ifRangeMatches(undefined, etag)).toBe(true)
    expect(ifRangeMatches('"abc123"', etag)).toBe(true)
    expect(ifRangeMatches(' "abc123" ', etag)).toBe(true)
    expect(ifRangeMatches('"abc124"', etag)).toBe(false)
    expect(ifRangeMatches('abc123', etag)).toBe(false)
  })

  it('never matches a weak tag, even with the same opaque value (strong comparison)', () => {
    expect(ifRangeMatches('W/"abc123"', etag)).toBe(false)
    expect(ifRangeMatches('"abc123"', 'W/"abc123"')).toBe(false)
  })

  it('never matches a date: the server sends no Last-Modified', () => {
    expect(ifRangeMatches('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false)
  })

  it('decideRange sends the whole file when If-Range fails, even for an unsatisfiable range', () => {
    expect(decideRange({ range: 'bytes=0-9', ifRange: etag }, 100, etag)).toEqual(partial(0, 10))
    expect(decideRange({ range: 'bytes=0-9', ifRange: '"stale"' }, 100, etag)).toEqual(full('if-range'))
    expect(decideRange({ range: 'bytes=500-', ifRange: 'W/"abc123"' }, 100, etag)).toEqual(full('if-range'))
    expect(decideRange({ range: 'bytes=500-' }, 100, etag)).toEqual(unsatisfiable)
    expect(decideRange({ ifRange: etag }, 100, etag)).toEqual(full('absent'))
  })
})

it('contentRange names the last byte, not the end', () => {
  expect(contentRange(0, 100, 1000)).toBe('bytes 0-99/1000')
  expect(contentRange(999, 1000, 1000)).toBe('bytes 999-999/1000')
})
