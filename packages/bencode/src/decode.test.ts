import { describe, expect, it } from 'vitest'
import {
  BencodeDecodeError,
  type BencodeDecodeErrorCode,
  type DecodeOptions,
  decode,
  decodePrefix,
  encode,
  MAX_INTEGER_DIGITS,
  toJson,
  utf8ToBytes,
} from './index.js'

const b = (text: string) => utf8ToBytes(text)

function decodeError(input: Uint8Array | string, options?: DecodeOptions): BencodeDecodeError {
  try {
    decode(typeof input === 'string' ? b(input) : input, options)
  } catch (error) {
    expect(error).toBeInstanceOf(BencodeDecodeError)
    return error as BencodeDecodeError
  }
  throw new Error('decode accepted the input')
}

describe('decode', () => {
  it('decodes the four types', () => {
    const value = decode(b('d3:foo3:bar5:helloi52e4:listli1ei-2eee'))
    expect(toJson(value)).toBe('{"foo":"bar","hello":52,"list":[1,-2]}')
  })

  it('returns byte strings as views into the input, not copies', () => {
    const input = b('l3:abce')
    const [text] = decode(input) as Uint8Array[]
    expect(text).toEqual(b('abc'))
    expect(text!.buffer).toBe(input.buffer)
    expect(text!.byteOffset).toBe(3)
  })

  it('returns plain Uint8Arrays for Buffer input', () => {
    const input = Buffer.from('d1:a2:xye')
    const value = decode(input) as Map<string, Uint8Array>
    expect(value.get('a')!.constructor).toBe(Uint8Array)
    expect(value.get('a')!.buffer).toBe(input.buffer)
  })

  it('decodes empty strings, lists and dictionaries', () => {
    expect(decode(b('0:'))).toEqual(new Uint8Array(0))
    expect(decode(b('le'))).toEqual([])
    expect(decode(b('de'))).toEqual(new Map())
    expect(decode(b('d0:0:e'))).toEqual(new Map([['', new Uint8Array(0)]]))
  })

  it('keeps integers exact: number while safe, bigint beyond', () => {
    expect(decode(b('i0e'))).toBe(0)
    expect(Object.is(decode(b('i0e')), 0)).toBe(true)
    expect(decode(b('i9007199254740991e'))).toBe(Number.MAX_SAFE_INTEGER)
    expect(decode(b('i-9007199254740991e'))).toBe(Number.MIN_SAFE_INTEGER)
    expect(decode(b('i9007199254740992e'))).toBe(9007199254740992n)
    expect(decode(b('i9007199254740993e'))).toBe(9007199254740993n)
    expect(decode(b('i-9007199254740993e'))).toBe(-9007199254740993n)
    expect(decode(b('i18446744073709551615e'))).toBe(18446744073709551615n)
    const huge = `1${'0'.repeat(MAX_INTEGER_DIGITS - 1)}`
    expect(decode(b(`i${huge}e`))).toBe(BigInt(huge))
  })

  it('keys dictionaries by binary strings, in input order, on a Map', () => {
    const hash = new Uint8Array(20).map((_, i) => 0xff - i)
    const input = new Uint8Array([...b('d9:__proto__i2e20:'), ...hash, ...b('i1ee')])
    const dict = decode(input) as Map<string, number>
    const hashKey = String.fromCharCode(...hash)
    expect([...dict.keys()]).toEqual(['__proto__', hashKey])
    expect(dict.get(hashKey)).toBe(1)
    expect(dict.get('__proto__')).toBe(2)
    expect(Object.getPrototypeOf(dict)).toBe(Map.prototype)
  })

  it('cannot pollute Object.prototype', () => {
    const value = decode(b('d9:__proto__d8:pollutedi1eee')) as Map<string, Map<string, number>>
    expect(value.get('__proto__')!.get('polluted')).toBe(1)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf({})).toBe(Object.prototype)
  })

  it.each<[string, BencodeDecodeErrorCode, number]>([
    ['', 'UNEXPECTED_END', 0],
    ['i03e', 'LEADING_ZERO', 1],
    ['i-03e', 'LEADING_ZERO', 2],
    ['i00e', 'LEADING_ZERO', 1],
    ['i-0e', 'NEGATIVE_ZERO', 0],
    ['03:abc', 'LEADING_ZERO', 0],
    ['d1:bi1e1:ai2ee', 'UNSORTED_KEYS', 7],
    ['d2:abi1e1:ai2ee', 'UNSORTED_KEYS', 8],
    ['d1:ai1e1:ai2ee', 'DUPLICATE_KEY', 7],
    ['i1ei2e', 'TRAILING_BYTES', 3],
    ['le\n', 'TRAILING_BYTES', 2],
    ['5:abc', 'UNEXPECTED_END', 0],
    ['l1:a', 'UNEXPECTED_END', 4],
    ['d1:a', 'UNEXPECTED_END', 4],
    ['d1:ai1e', 'UNEXPECTED_END', 7],
    ['i12', 'UNEXPECTED_END', 3],
    ['i', 'UNEXPECTED_END', 1],
    ['i-', 'UNEXPECTED_END', 2],
    ['3', 'UNEXPECTED_END', 0],
    ['0', 'UNEXPECTED_END', 1],
    ['ie', 'INVALID_INTEGER', 0],
    ['i-e', 'INVALID_INTEGER', 0],
    ['i+1e', 'INVALID_INTEGER', 1],
    ['i1.5e', 'INVALID_INTEGER', 2],
    ['i--1e', 'INVALID_INTEGER', 2],
    ['i 1e', 'INVALID_INTEGER', 1],
    ['3x:abc', 'INVALID_LENGTH', 1],
    ['x', 'UNEXPECTED_BYTE', 0],
    ['e', 'UNEXPECTED_BYTE', 0],
    [':', 'UNEXPECTED_BYTE', 0],
    ['-1:a', 'UNEXPECTED_BYTE', 0],
    ['li1ex', 'UNEXPECTED_BYTE', 4],
    ['di1ei2ee', 'UNEXPECTED_BYTE', 1],
    ['dlei1ee', 'UNEXPECTED_BYTE', 1],
  ])('rejects %j with %s at byte %i', (input, code, offset) => {
    const error = decodeError(input)
    expect(error.code).toBe(code)
    expect(error.offset).toBe(offset)
    expect(error.name).toBe('BencodeDecodeError')
    expect(error.message).toMatch(/^bencode: .* at byte \d+$/)
  })

  it('rejects a declared length larger than the input before allocating or reading it', () => {
    const error = decodeError('99999999999999999999999999999:x')
    expect(error.code).toBe('UNEXPECTED_END')
    expect(error.offset).toBe(0)
  })

  it('rejects integers with more than MAX_INTEGER_DIGITS digits without parsing them', () => {
    const digits = '9'.repeat(1_000_000)
    const started = performance.now()
    const error = decodeError(`i${digits}e`)
    expect(error.code).toBe('INTEGER_TOO_LONG')
    expect(error.offset).toBe(0)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(decodeError(`i-${'1'.repeat(MAX_INTEGER_DIGITS + 1)}e`).code).toBe('INTEGER_TOO_LONG')
  })

  describe('lenient mode', () => {
    const lenient = { strict: false }

    it('accepts what real-world torrents get wrong', () => {
      expect(decode(b('i03e'), lenient)).toBe(3)
      expect(decode(b('i-03e'), lenient)).toBe(-3)
      expect(Object.is(decode(b('i-0e'), lenient), 0)).toBe(true)
      expect(decode(b('i-00000000000000000000e'), lenient)).toBe(0)
      expect(decode(b('i00000000000000000000000001e'), lenient)).toBe(1)
      expect(decode(b('03:abc'), lenient)).toEqual(b('abc'))
      expect(decode(b('le\n'), lenient)).toEqual([])
      expect(toJson(decode(b('d1:bi1e1:ai2ee'), lenient))).toBe('{"b":1,"a":2}')
    })

    it('keeps the first of duplicate keys, as libtorrent does', () => {
      expect(toJson(decode(b('d1:bi03e1:ai2e1:ai3ee'), lenient))).toBe('{"b":3,"a":2}')
    })

    it('still rejects malformed input', () => {
      for (const input of ['', 'i1', '5:abc', 'ie', 'i1.5e', 'x', 'd1:a', 'di1ei2ee']) {
        expect(() => decode(b(input), lenient)).toThrow(BencodeDecodeError)
      }
    })
  })

  describe('depth limit', () => {
    const nested = (depth: number) => b(`${'l'.repeat(depth)}${'e'.repeat(depth)}`)

    it('accepts nesting up to maxDepth and rejects one more', () => {
      expect(() => decode(nested(256))).not.toThrow()
      const error = decodeError(nested(257))
      expect(error.code).toBe('DEPTH_EXCEEDED')
      expect(error.offset).toBe(256)
      expect(() => decode(nested(3), { maxDepth: 3 })).not.toThrow()
      expect(decodeError(b('ld1:ald1:alee'), { maxDepth: 3 }).offset).toBe(6)
      expect(decodeError(b('le'), { maxDepth: 0 }).code).toBe('DEPTH_EXCEEDED')
      expect(decode(b('i1e'), { maxDepth: 0 })).toBe(1)
    })

    it('turns a call-stack overflow into DEPTH_EXCEEDED when maxDepth is set too high', () => {
      const error = decodeError(b('l'.repeat(1_000_000)), { maxDepth: 10_000_000 })
      expect(error.code).toBe('DEPTH_EXCEEDED')
      expect(error.message).toContain('call stack')
    })

    it('refuses a maxDepth that is not a non-negative integer', () => {
      for (const maxDepth of [-1, 1.5, Number.NaN]) {
        expect(() => decode(b('le'), { maxDepth })).toThrow(RangeError)
      }
    })
  })
})

describe('decodePrefix', () => {
  it('decodes the leading value and reports its length', () => {
    const { value, length } = decodePrefix(b('d1:ai1eeRAW'))
    expect(length).toBe(8)
    expect(encode(value)).toEqual(b('d1:ai1ee'))
  })

  it('reports the length of a value that fills the input', () => {
    expect(decodePrefix(b('i42e'))).toEqual({ value: 42, length: 4 })
  })

  it('applies the strict rules to the prefix only', () => {
    expect(() => decodePrefix(b('d1:bi1e1:ai2eeXYZ'))).toThrow(BencodeDecodeError)
    expect(decodePrefix(b('d1:bi1e1:ai2eeXYZ'), { strict: false }).length).toBe(14)
    expect(() => decodePrefix(b('d1:ai1e'))).toThrow(BencodeDecodeError)
  })
})
