import { describe, expect, it } from 'vitest'
import { BencodeDecodeError, decode, decodePrefix, encode, spanOf, toJson, utf8ToBytes } from './index.js'

const b = (text: string) => utf8ToBytes(text)

describe('decode', () => {
  it('decodes the four types', () => {
    const value = decode(b('d3:foo3:bar5:helloi52e4:listli1ei-2eee'))
    expect(toJson(value)).toBe('{"foo":"bar","hello":52,"list":[1,-2]}')
  })

  it('keeps integers exact beyond 2^53', () => {
    expect(decode(b('i9007199254740993e'))).toBe(9007199254740993n)
    expect(decode(b('i-9007199254740991e'))).toBe(-9007199254740991)
  })

  it.each([
    ['i03e', 'LEADING_ZERO'],
    ['i-0e', 'NEGATIVE_ZERO'],
    ['03:abc', 'LEADING_ZERO'],
    ['d1:bi1e1:ai2ee', 'UNSORTED_KEYS'],
    ['d1:ai1e1:ai2ee', 'DUPLICATE_KEY'],
    ['i1ei2e', 'TRAILING_BYTES'],
    ['5:abc', 'UNEXPECTED_END'],
    ['ie', 'INVALID_INTEGER'],
    ['x', 'UNEXPECTED_BYTE'],
  ])('rejects %s with %s and an offset', (input, code) => {
    const error = (() => {
      try {
        decode(b(input))
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(BencodeDecodeError)
    expect((error as BencodeDecodeError).code).toBe(code)
    expect((error as BencodeDecodeError).offset).toBeGreaterThanOrEqual(0)
  })

  it('accepts non-canonical input when lenient', () => {
    expect(toJson(decode(b('d1:bi03e1:ai2e1:ai3ee'), { strict: false }))).toBe('{"b":3,"a":2}')
  })

  it('finds the byte span of a nested value', () => {
    const bytes = b('d8:announce3:url4:infod4:name1:xee')
    const span = spanOf(bytes, ['info'])
    expect(new TextDecoder().decode(bytes.subarray(span.start, span.end))).toBe('d4:name1:xe')
  })

  it('decodes a prefix and reports its length', () => {
    const { value, length } = decodePrefix(b('d1:ai1eeRAW'))
    expect(length).toBe(8)
    expect(encode(value)).toEqual(b('d1:ai1ee'))
  })
})
