import { describe, expect, it } from 'vitest'
import {
  BencodeEncodeError,
  bytesToKey,
  bytesToUtf8,
  bytesToUtf8Strict,
  decode,
  keyToBytes,
  keyToUtf8,
  toJson,
  utf8Key,
  utf8ToBytes,
} from './index.js'

describe('text helpers', () => {
  it('convert between UTF-8 bytes and text', () => {
    expect(utf8ToBytes('é☃')).toEqual(new Uint8Array([0xc3, 0xa9, 0xe2, 0x98, 0x83]))
    expect(bytesToUtf8(new Uint8Array([0xc3, 0xa9]))).toBe('é')
    expect(bytesToUtf8(new Uint8Array([0xff, 0x61]))).toBe('\ufffda')
    expect(bytesToUtf8Strict(new Uint8Array([0xc3, 0xa9]))).toBe('é')
    expect(bytesToUtf8Strict(new Uint8Array([0xff, 0x61]))).toBeUndefined()
  })

  it('keep a leading byte order mark', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61])
    expect(bytesToUtf8(bom)).toBe('\ufeffa')
    expect(bytesToUtf8Strict(bom)).toBe('\ufeffa')
    expect(utf8ToBytes(bytesToUtf8(bom))).toEqual(bom)
  })

  it('map every byte to one key character and back', () => {
    const all = new Uint8Array(256).map((_, i) => i)
    const key = bytesToKey(all)
    expect(key.length).toBe(256)
    expect(key.charCodeAt(0xc3)).toBe(0xc3)
    expect(keyToBytes(key)).toEqual(all)
    const long = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff)
    expect(Buffer.compare(keyToBytes(bytesToKey(long)), long)).toBe(0)
  })

  it('read text keys through utf8Key and keyToUtf8', () => {
    expect(utf8Key('naïve')).toBe('na\u00c3\u00afve')
    expect(keyToUtf8(utf8Key('naïve ☃'))).toBe('naïve ☃')
    const dict = decode(utf8ToBytes('d6:naïvei1ee')) as Map<string, number>
    expect(dict.get(utf8Key('naïve'))).toBe(1)
  })

  it('refuse a key that is not a binary string', () => {
    expect(() => keyToBytes('☃')).toThrow(BencodeEncodeError)
    expect(() => keyToUtf8('a☃')).toThrow(/above U\+00FF at 1/)
  })
})

describe('toJson', () => {
  it('prints a decoded value on one line, keys in order, strings as UTF-8', () => {
    const value = decode(utf8ToBytes('d3:foo3:bar5:helloi52e1:xl2:\u00e9d1:qi-1eeee'))
    expect(toJson(value)).toBe('{"foo":"bar","hello":52,"x":["é",{"q":-1}]}')
  })

  it('prints big integers as exact digits', () => {
    expect(toJson(decode(utf8ToBytes('li18446744073709551617ei-9007199254740993ee')))).toBe(
      '[18446744073709551617,-9007199254740993]',
    )
  })

  it('escapes what JSON must escape and replaces invalid UTF-8', () => {
    const bytes = new Uint8Array([...utf8ToBytes('l4:"\n\\'), 0xff, ...utf8ToBytes('e')])
    expect(toJson(decode(bytes))).toBe('["\\"\\n\\\\\ufffd"]')
    expect(JSON.parse(toJson(decode(bytes)))).toEqual(['"\n\\\ufffd'])
  })
})
