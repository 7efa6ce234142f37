import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ScrapeNotSupportedError, TrackerUrlError } from './errors.js'
import {
  type AnnounceParams,
  announceRequestUrl,
  percentEncodeBytes,
  scrapeRequestUrl,
  scrapeUrlFor,
} from './query.js'

/** Byte-exact percent decoding (decodeURIComponent would insist on UTF-8). */
function percentDecode(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      out.push(text.charCodeAt(i))
    }
  }
  return Uint8Array.from(out)
}

const params: AnnounceParams = {
  infoHash: Uint8Array.from({ length: 20 }, (_, i) => i * 13),
  peerId: new TextEncoder().encode('-BT0001-abcdefghijkl'),
  port: 6881,
  uploaded: 0,
  downloaded: 0,
  left: 1234,
}

describe('percentEncodeBytes', () => {
  it('keeps exactly the unreserved characters and encodes every other byte as upper-case %XX', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const encoded = percentEncodeBytes(all)
    const kept = new Set(encoded.replace(/%[0-9A-F]{2}/g, ''))
    expect([...kept].join('')).toBe('-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~')
    expect(encoded).not.toContain('+')
    expect(encoded).toContain('%20')
    expect(encoded).toContain('%2B')
    expect(encoded).toContain('%FF')
    expect(encoded).toContain('%00')
  })

  it('encodes an info hash as real trackers expect', () => {
    const infoHash = Uint8Array.from([
      0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34,
      0x56, 0x78, 0x9a,
    ])
    // The example from the BitTorrent specification wiki.
    expect(percentEncodeBytes(infoHash)).toBe('%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A')
  })

  it('round-trips arbitrary bytes and only ever emits unreserved characters and escapes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const encoded = percentEncodeBytes(bytes)
        expect(encoded).toMatch(/^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/)
        expect(percentDecode(encoded)).toEqual(bytes)
      }),
    )
  })
})

describe('announceRequestUrl', () => {
  it('sends every parameter, compact by default, event omitted for regular announces', () => {
    const url = announceRequestUrl('http://tracker.example/announce', params)
    expect(url.origin + url.pathname).toBe('http://tracker.example/announce')
    const query = url.search.slice(1).split('&')
    expect(query).toEqual([
      `info_hash=${percentEncodeBytes(params.infoHash)}`,
      'peer_id=-BT0001-abcdefghijkl',
      'port=6881',
      'uploaded=0',
      'downloaded=0',
      'left=1234',
      'compact=1',
    ])
  })

  it('carries the optional parameters', () => {
    const url = announceRequestUrl('https://t.example:8443/announce', {
      ...params,
      left: 2n ** 64n - 1n,
      event: 'started',
      numwant: 50,
      key: 0xbeef,
      trackerId: Uint8Array.from([0xff, 0x20, 0x41]),
      compact: false,
    })
    expect(url.search).toContain('&left=18446744073709551615&compact=0&event=started&numwant=50')
    expect(url.search).toContain('&key=0000BEEF&trackerid=%FF%20A')
    expect(url.protocol).toBe('https:')
    expect(url.port).toBe('8443')
  })

  it('keeps the query an announce URL already has and drops the fragment', () => {
    const url = announceRequestUrl('http://t.example/a/announce.php?passkey=s3cr%2Ft#frag', params)
    expect(url.pathname).toBe('/a/announce.php')
    expect(url.search.startsWith('?passkey=s3cr%2Ft&info_hash=')).toBe(true)
    expect(url.hash).toBe('')
    expect(announceRequestUrl('http://t.example/announce?', params).search.startsWith('?info_hash=')).toBe(
      true,
    )
    expect(
      announceRequestUrl('http://t.example/announce?a=1&', params).search.startsWith('?a=1&info_hash='),
    ).toBe(true)
  })

  it('survives URL parsing byte for byte for any info hash and peer id', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (infoHash, peerId) => {
          const url = announceRequestUrl('http://t.example/announce?x=1', { ...params, infoHash, peerId })
          const fields = new Map(
            url.search
              .slice(1)
              .split('&')
              .map((pair) => pair.split('=') as [string, string]),
          )
          expect(percentDecode(fields.get('info_hash')!)).toEqual(infoHash)
          expect(percentDecode(fields.get('peer_id')!)).toEqual(peerId)
          expect(fields.get('x')).toBe('1')
        },
      ),
    )
  })

  it('rejects invalid params and URLs before any I/O', () => {
    expect(() =>
      announceRequestUrl('http://t/announce', { ...params, infoHash: new Uint8Array(19) }),
    ).toThrow(TypeError)
    expect(() => announceRequestUrl('http://t/announce', { ...params, port: 70000 })).toThrow(RangeError)
    expect(() => announceRequestUrl('http://t/announce', { ...params, left: -1 })).toThrow(RangeError)
    expect(() => announceRequestUrl('http://t/announce', { ...params, uploaded: 1.5 })).toThrow(RangeError)
    expect(() => announceRequestUrl('http://t/announce', { ...params, key: 2 ** 32 })).toThrow(RangeError)
    expect(() => announceRequestUrl('udp://t:80/announce', params)).toThrow(TrackerUrlError)
    expect(() => announceRequestUrl('not a url', params)).toThrow(TrackerUrlError)
  })
})

describe('scrapeUrlFor (BEP 48)', () => {
  it.each([
    ['http://example.com/announce', 'http://example.com/scrape'],
    ['http://example.com/x/announce', 'http://example.com/x/scrape'],
    ['http://example.com/announce.php', 'http://example.com/scrape.php'],
    ['http://example.com/a?x=2%0644', 'no'],
    ['http://example.com/announce?x2%0644', 'http://example.com/scrape?x2%0644'],
    ['http://example.com/announce?x=2/4', 'http://example.com/scrape?x=2/4'],
    ['http://example.com/x%064announce', 'no'],
    ['http://example.com/announce/x', 'no'],
    ['https://example.com:8443/pk/announce#frag', 'https://example.com:8443/pk/scrape'],
  ])('%s → %s', (announceUrl, expected) => {
    if (expected === 'no') expect(() => scrapeUrlFor(announceUrl)).toThrow(ScrapeNotSupportedError)
    else expect(scrapeUrlFor(announceUrl)).toBe(expected)
  })

  it('builds a scrape request with one info_hash per torrent after the existing query', () => {
    const a = new Uint8Array(20).fill(0x41)
    const b = new Uint8Array(20).fill(0xfe)
    const url = scrapeRequestUrl('http://t.example/scrape?pk=1', [a, b])
    expect(url.search).toBe(`?pk=1&info_hash=${'A'.repeat(20)}&info_hash=${'%FE'.repeat(20)}`)
    expect(() => scrapeRequestUrl('http://t.example/scrape', [])).toThrow(RangeError)
  })
})
