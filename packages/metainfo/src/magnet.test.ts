import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidInfoHashError, InvalidMagnetError, UnsupportedTorrentError } from './errors.js'
import { infoHashToHex, parseInfoHash } from './info-hash.js'
import { parseMagnet, toMagnet } from './magnet.js'
import type { MagnetLink } from './types.js'

const HEX = '08ada5a7a6183aae1e09d831df6748d566095a10'
const BASE32 = 'BCW2LJ5GDA5K4HQJ3AY56Z2I2VTASWQQ'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('info hash text', () => {
  it('reads hex and base32 in either case', () => {
    const bytes = parseInfoHash(HEX)
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(bytes).toHaveLength(20)
    expect(infoHashToHex(bytes)).toBe(HEX)
    expect(infoHashToHex(parseInfoHash(HEX.toUpperCase()))).toBe(HEX)
    expect(infoHashToHex(parseInfoHash(BASE32))).toBe(HEX)
    expect(infoHashToHex(parseInfoHash(BASE32.toLowerCase()))).toBe(HEX)
  })

  it.each(['', HEX.slice(1), `${HEX}0`, `${HEX.slice(1)}g`, `${BASE32.slice(1)}1`, `${BASE32}A`])(
    'rejects %j',
    (text) => {
      const error = thrown(() => parseInfoHash(text))
      expect(error).toBeInstanceOf(InvalidInfoHashError)
      expect((error as InvalidInfoHashError).input).toBe(text)
    },
  )

  it('needs 20 bytes to print', () => {
    expect(() => infoHashToHex(new Uint8Array(19))).toThrow(RangeError)
  })
})

describe('parseMagnet', () => {
  it('reads every supported parameter', () => {
    const magnet = parseMagnet(
      `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=Sintel+movie%20%C3%A9&tr=udp%3A%2F%2Ftracker.example%3A1337` +
        '&tr.1=http://a.example/announce&tr.2=http%3A%2F%2Fb.example%2Fannounce%3Fkey%3D1%2B2' +
        '&tr=udp%3A%2F%2Ftracker.example%3A1337&tr=not%20a%20url&tr=' +
        '&ws=https%3A%2F%2Fseed.example%2Fsintel%2F&x.pe=10.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A6881&xl=129302391',
    )
    expect(magnet).toEqual({
      infoHash: HEX,
      infoHashBytes: parseInfoHash(HEX),
      name: 'Sintel movie é',
      trackers: [
        'udp://tracker.example:1337',
        'http://a.example/announce',
        'http://b.example/announce?key=1+2',
      ],
      webSeeds: ['https://seed.example/sintel/'],
      peers: ['10.0.0.1:6881', '[::1]:6881'],
    } satisfies MagnetLink)
  })

  it('accepts base32 hashes, upper-case keys and a hybrid link', () => {
    expect(parseMagnet(`MAGNET:?XT=urn:btih:${BASE32}`).infoHash).toBe(HEX)
    const hybrid = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}&dn=x`)
    expect(hybrid.infoHash).toBe(HEX)
    expect(hybrid.name).toBe('x')
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt.1=urn:btih:${HEX.toUpperCase()}`).infoHash).toBe(HEX)
  })

  it('keeps malformed percent escapes as they are', () => {
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=100%25%20pure%&dn=second`).name).toBe('100% pure%')
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=%zz%C3`).name).toBe('%zz\uFFFD')
  })

  it.each([
    [`https://example.com/?xt=urn:btih:${HEX}`, 'uri'],
    ['magnet:?dn=no-hash', 'xt'],
    [`magnet:?xt=urn:btih:${HEX.slice(2)}`, 'xt'],
    [`magnet:?xt=urn:sha1:${HEX}`, 'xt'],
    [`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'0'.repeat(40)}`, 'xt'],
  ])('rejects %s (field %s)', (uri, field) => {
    const error = thrown(() => parseMagnet(uri))
    expect(error).toBeInstanceOf(InvalidMagnetError)
    expect((error as InvalidMagnetError).name).toBe('InvalidMagnetError')
    expect((error as InvalidMagnetError).field).toBe(field)
    expect((error as Error).message).toMatch(/^metainfo: invalid magnet link: /)
  })

  it('says a v2-only link is unsupported', () => {
    const error = thrown(() => parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}`))
    expect(error).toBeInstanceOf(UnsupportedTorrentError)
    expect((error as UnsupportedTorrentError).feature).toBe('v2-only')
  })
})

describe('toMagnet', () => {
  it('writes a link with every field percent-encoded', () => {
    const uri = toMagnet({
      infoHash: BASE32,
      name: 'a b&c=d+é',
      trackers: ['udp://t.example:80/announce?x=1&y=2'],
      webSeeds: ['https://w.example/'],
      peers: ['[::1]:6881'],
    })
    expect(uri).toBe(
      `magnet:?xt=urn:btih:${HEX}&dn=a%20b%26c%3Dd%2B%C3%A9` +
        '&tr=udp%3A%2F%2Ft.example%3A80%2Fannounce%3Fx%3D1%26y%3D2&ws=https%3A%2F%2Fw.example%2F&x.pe=%5B%3A%3A1%5D%3A6881',
    )
    expect(toMagnet({ infoHash: parseInfoHash(HEX) })).toBe(`magnet:?xt=urn:btih:${HEX}`)
  })

  it('round-trips through parseMagnet (property)', () => {
    const url = fc.webUrl({ withQueryParameters: true, withFragments: false })
    const link = fc.record({
      infoHashBytes: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      name: fc.option(fc.string({ unit: 'grapheme', minLength: 1 }), { nil: undefined }),
      trackers: fc.uniqueArray(
        fc.oneof(
          url,
          url.map((text) => text.replace(/^https?/, 'udp')),
        ),
        { maxLength: 5 },
      ),
      webSeeds: fc.uniqueArray(url, { maxLength: 3 }),
      peers: fc.uniqueArray(
        fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `${host}:${port}`),
        { maxLength: 3 },
      ),
    })
    fc.assert(
      fc.property(link, (input) => {
        const expected: MagnetLink = { ...input, infoHash: infoHashToHex(input.infoHashBytes) }
        expect(parseMagnet(toMagnet(expected))).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})
