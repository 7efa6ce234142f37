import { describe, expect, it } from 'vitest'
import {
  BencodeEncodeError,
  type BencodeInput,
  bytesToKey,
  bytesToUtf8,
  decode,
  encode,
  utf8Key,
  utf8ToBytes,
} from './index.js'

const text = (value: BencodeInput) => bytesToUtf8(encode(value))

function encodeError(value: unknown): BencodeEncodeError {
  try {
    encode(value as BencodeInput)
  } catch (error) {
    expect(error).toBeInstanceOf(BencodeEncodeError)
    return error as BencodeEncodeError
  }
  throw new Error('encode accepted the value')
}

describe('encode', () => {
  it('encodes the four types', () => {
    expect(text(new Uint8Array([0x61, 0x62]))).toBe('2:ab')
    expect(text('')).toBe('0:')
    expect(text(0)).toBe('i0e')
    expect(text(-0)).toBe('i0e')
    expect(text(-42)).toBe('i-42e')
    expect(text([])).toBe('le')
    expect(text({})).toBe('de')
    expect(text(new Map())).toBe('de')
    expect(text([1, 'a', [new Map([['k', 2]])]])).toBe('li1e1:ald1:ki2eeee')
  })

  it('writes every integer exactly', () => {
    for (const n of [1, 9, 10, 99, 100, 1234567890, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      expect(text(n)).toBe(`i${n}e`)
      expect(text(-n)).toBe(`i-${n}e`)
    }
    expect(text(2n ** 64n)).toBe('i18446744073709551616e')
    expect(text(-(2n ** 100n))).toBe(`i-${2n ** 100n}e`)
    expect(text(0n)).toBe('i0e')
  })

  it('encodes JS strings as UTF-8, lone surrogates as U+FFFD like TextEncoder', () => {
    expect(encode('naïve ☃ 😀')).toEqual(utf8ToBytes('15:naïve ☃ 😀'))
    for (const value of ['\ud800', 'a\udc00b', '\ud83d\ude00\ud83d', `${'x'.repeat(70_000)}é`]) {
      const bytes = new TextEncoder().encode(value)
      expect(encode(value)).toEqual(new Uint8Array([...utf8ToBytes(`${bytes.length}:`), ...bytes]))
    }
  })

  it('sorts keys by their raw bytes, whatever order they come in', () => {
    expect(text({ b: 1, a: 2, ab: 3, '': 4 })).toBe('d0:i4e1:ai2e2:abi3e1:bi1ee')
    const hi = String.fromCharCode(0xff)
    const bytes = encode(
      new Map<string, number>([
        [hi, 1],
        ['z', 2],
        [utf8Key('é'), 3],
      ]),
    )
    expect([...(decode(bytes) as Map<string, number>).keys()]).toEqual(['z', utf8Key('é'), hi])
    // In JS string order '😀' (code units D83D DE00) sorts before 'ｚ' (FF5A); in UTF-8 it sorts
    // after (F0 9F 98 80 > EF BD 9A). BEP 3 orders by bytes.
    const keys = ['😀', 'ｚ', 'é'].map(utf8Key)
    const decoded = decode(encode(Object.fromEntries(keys.map((k) => [k, 1])))) as Map<string, number>
    expect([...decoded.keys()]).toEqual([utf8Key('é'), utf8Key('ｚ'), utf8Key('😀')])
  })

  it('uses binary-string keys, so raw info hashes work as keys', () => {
    const infoHash = new Uint8Array(20).map((_, i) => i * 13)
    const files = new Map([[bytesToKey(infoHash), { complete: 5 }]])
    const bytes = encode({ files })
    expect(bytes).toEqual(
      new Uint8Array([...utf8ToBytes('d5:filesd20:'), ...infoHash, ...utf8ToBytes('d8:completei5eeee')]),
    )
  })

  it('leaves out dictionary entries whose value is undefined', () => {
    expect(text({ a: 1, b: undefined, c: 'x' })).toBe('d1:ai1e1:c1:xe')
    expect(text(new Map([['a', undefined]]))).toBe('de')
  })

  it('accepts objects without a prototype and Buffers', () => {
    const bare = Object.create(null) as Record<string, number>
    bare.a = 1
    expect(text(bare)).toBe('d1:ai1ee')
    expect(text(Buffer.from('hi'))).toBe('2:hi')
  })

  it('is canonical: decoding and re-encoding gives the same bytes', () => {
    const bytes = encode({ z: [1, 2n ** 70n, 'x'], a: { c: new Uint8Array([0, 255]), b: -1 } })
    expect(encode(decode(bytes))).toEqual(bytes)
  })

  it.each<[string, unknown, string, RegExp]>([
    ['a float', { a: [1.5] }, '.a[0]', /1\.5 is not a safe integer/],
    ['an unsafe number', 2 ** 53, '', /not a safe integer \(use a bigint/],
    ['NaN', { x: Number.NaN }, '.x', /NaN is not a safe integer/],
    ['null', [1, [2, null]], '[1][1]', /null has no bencode form/],
    ['undefined in a list', [undefined], '[0]', /undefined has no bencode form/],
    ['a boolean', { a: { b: true } }, '.a.b', /boolean has no bencode form/],
    ['a Date', { when: new Date(0) }, '.when', /Date has no bencode form/],
    ['another typed array', new Int8Array(2), '', /Int8Array has no bencode form/],
    ['a Set', new Set(), '', /Set has no bencode form/],
    ['a symbol', { s: Symbol('s') }, '.s', /symbol has no bencode form/],
    ['a function', { f: () => 1 }, '.f', /function has no bencode form/],
    ['a key that is not a binary string', { '☃': 1 }, '.☃', /not a binary string \(use utf8Key\(\)\)/],
    ['a Map key that is not a string', new Map([[1, 2]]), '', /key number is not a string/],
  ])('refuses %s, saying where', (_, value, path, message) => {
    const error = encodeError(value)
    expect(error.name).toBe('BencodeEncodeError')
    expect(error.path).toBe(path)
    expect(error.message).toMatch(message)
    expect(error.message).toMatch(/^bencode: cannot encode /)
  })

  it('refuses cycles and very deep nesting without overflowing the stack', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const error = encodeError(cycle)
    expect(error.message).toMatch(/nesting deeper than 1024 \(or a cycle\)/)
    expect(error.path).toMatch(/^(\.self){8}…(\.self){8}$/)

    let deep: unknown[] = []
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(encodeError(deep).message).toMatch(/nesting deeper than 1024/)

    let ok: unknown[] = []
    for (let i = 0; i < 1023; i++) ok = [ok]
    expect(encode(ok as BencodeInput).length).toBe(2048)
  })

  it('turns a call-stack overflow into BencodeEncodeError', () => {
    let deep: unknown[] = []
    for (let i = 0; i < 1000; i++) deep = [deep]
    const recurse = (n: number): unknown => (n === 0 ? encode(deep as BencodeInput) : recurse(n - 1))
    // Use up most of the stack first, then encode: whatever depth the overflow hits, only the
    // package's error may come out.
    for (let n = 1000; n < 20_000; n += 1000) {
      try {
        recurse(n)
      } catch (error) {
        if (error instanceof RangeError) continue // the overflow hit `recurse` itself
        expect(error).toBeInstanceOf(BencodeEncodeError)
        expect((error as Error).message).toMatch(/call stack/)
        return
      }
    }
    throw new Error('the stack never overflowed inside encode')
  })

  it('handles outputs larger than its reused work buffer, and calls from inside a getter', () => {
    const big = new Uint8Array(5 * 1024 * 1024).fill(7)
    const out = encode([big, big])
    expect(out.length).toBe(2 + 2 * (8 + big.length))
    const [first, second] = decode(out) as Uint8Array[]
    expect(Buffer.compare(first!, big)).toBe(0)
    expect(Buffer.compare(second!, big)).toBe(0)

    const inner = {
      get value() {
        return encode({ nested: 'yes' })
      },
    }
    expect(text({ a: 'outer', b: inner.value, c: 'end' })).toBe('d1:a5:outer1:b15:d6:nested3:yese1:c3:ende')
    const tricky = {
      get a() {
        return encode(['x'.repeat(10_000)])
      },
      b: 'after',
    }
    const decoded = decode(encode(tricky as BencodeInput)) as Map<string, Uint8Array>
    expect(decoded.get('a')!.length).toBe(10_008)
    expect(bytesToUtf8(decoded.get('b')!)).toBe('after')
  })

  it('returns a fresh array each call', () => {
    const first = encode('abc')
    const second = encode('xyz')
    expect(bytesToUtf8(first)).toBe('3:abc')
    expect(first.buffer).not.toBe(second.buffer)
    expect(first.byteLength).toBe(first.buffer.byteLength)
  })
})
