import { BencodeDecodeError, type BencodeInput, bytesToKey, encode } from '@bt/bencode'
import { encodeCompactPeers, type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TrackerFailureError, TrackerResponseError } from './errors.js'
import { DEFAULT_INTERVAL, parseAnnounceResponse, parseScrapeResponse } from './response.js'

const URL = 'http://tracker.test/announce'
const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0))
const parse = (body: BencodeInput | Uint8Array, maxPeers = 2000) =>
  parseAnnounceResponse(body instanceof Uint8Array ? body : encode(body), URL, maxPeers)

function thrown(body: BencodeInput): unknown {
  try {
    parse(body)
  } catch (error) {
    return error
  }
  throw new Error('expected the parse to throw')
}

describe('parseAnnounceResponse', () => {
  it('reads compact IPv4 (BEP 23) and IPv6 (BEP 7) peers and the swarm fields', () => {
    const v4: PeerAddress[] = [
      { host: '10.0.0.1', port: 6881 },
      { host: '192.168.1.200', port: 51413 },
    ]
    const v6: PeerAddress[] = [{ host: '2001:db8::1', port: 6882 }]
    const response = parse({
      interval: 900,
      'min interval': 60,
      complete: 3,
      incomplete: 7,
      'tracker id': 'abc',
      'warning message': 'be nice',
      peers: encodeCompactPeers(v4, 4),
      peers6: encodeCompactPeers(v6, 6),
    })
    expect(response).toEqual({
      interval: 900,
      minInterval: 60,
      complete: 3,
      incomplete: 7,
      trackerId: latin1('abc'),
      warning: 'be nice',
      peers: [...v4, ...v6],
    })
  })

  it('reads dictionary peers, keeps valid peer ids and skips unusable entries', () => {
    const id = latin1('-LT2080-abcdefghijkl')
    const response = parse({
      interval: 1,
      peers: [
        { ip: '10.0.0.1', port: 1, 'peer id': id },
        { ip: '0:0:0::0:1', port: 2 },
        { ip: '10.0.0.3', port: 3, 'peer id': 'short' },
        { ip: 'tracker.example', port: 4 },
        { ip: '10.0.0.5', port: 0 },
        { ip: '10.0.0.6', port: 70000 },
        { ip: '10.0.0.7', port: '7' },
        { ip: 'fe80::1%eth0', port: 8 },
        { port: 9 },
        'not a dict',
        7,
      ],
    })
    expect(response.peers).toEqual([
      { host: '10.0.0.1', port: 1, peerId: id },
      { host: '::1', port: 2 },
      { host: '10.0.0.3', port: 3 },
    ])
  })

  it('recovers peer ids that bittorrent-tracker wrote as UTF-8, and only those', () => {
    const id = Uint8Array.from([0x2d, 0x42, 0x54, 0xff, 0x80, ...new Array(15).fill(0x41)])
    const mangled = new TextEncoder().encode(bytesToKey(id))
    expect(mangled.length).toBe(22)
    const notAnId = new TextEncoder().encode('€'.repeat(7))
    const response = parse({
      interval: 1,
      peers: [
        { ip: '10.0.0.1', port: 1, 'peer id': mangled },
        { ip: '10.0.0.2', port: 2, 'peer id': notAnId },
        { ip: '10.0.0.3', port: 3, 'peer id': new Uint8Array(22) },
      ],
    })
    expect(response.peers).toEqual([
      { host: '10.0.0.1', port: 1, peerId: id },
      { host: '10.0.0.2', port: 2 },
      { host: '10.0.0.3', port: 3 },
    ])
  })

  it('deduplicates peers and caps the list', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ host: `10.0.${i >> 8}.${i & 0xff}`, port: 1000 }))
    const compact = encodeCompactPeers(many, 4)
    const doubled = new Uint8Array(compact.length * 2)
    doubled.set(compact)
    doubled.set(compact, compact.length)
    expect(parse({ interval: 1, peers: doubled }, 100_000).peers).toHaveLength(5000)
    const capped = parse(
      { interval: 1, peers: doubled, peers6: encodeCompactPeers([{ host: '::2', port: 1 }], 6) },
      10,
    )
    expect(capped.peers).toEqual(many.slice(0, 10))
    const dicts = many.map((peer) => ({ ip: peer.host, port: peer.port }))
    expect(parse({ interval: 1, peers: dicts }, 3).peers).toEqual(many.slice(0, 3))
  })

  it('drops a partial trailing compact entry and port-0 entries', () => {
    const bytes = Uint8Array.from([127, 0, 0, 1, 0x1a, 0xe1, 1, 2, 3, 4, 0, 0, 9, 9, 9])
    expect(parse({ interval: 1, peers: bytes }).peers).toEqual([{ host: '127.0.0.1', port: 6881 }])
  })

  it('turns failure reason into TrackerFailureError with the text and BEP 31 retry in', () => {
    const error = thrown({ 'failure reason': 'torrent not registered', 'retry in': 'never' })
    expect(error).toBeInstanceOf(TrackerFailureError)
    expect(error).toMatchObject({
      name: 'TrackerFailureError',
      reason: 'torrent not registered',
      retryIn: 'never',
      url: URL,
    })
    expect(thrown({ 'failure reason': 'busy', 'retry in': 5 })).toMatchObject({ retryIn: 5 })
    expect(thrown({ 'failure reason': 3 })).toMatchObject({ name: 'TrackerFailureError' })
  })

  it('neutralises control characters and caps tracker text', () => {
    const error = thrown({ 'failure reason': `\u001b[31mred\r\n${'x'.repeat(5000)}` }) as TrackerFailureError
    expect(error.reason.startsWith('\uFFFD[31mred\uFFFD\uFFFDxxx')).toBe(true)
    expect(error.reason.length).toBe(1024)
    expect(parse({ 'warning message': 'a\u0007b' }).warning).toBe('a\uFFFDb')
  })

  it('accepts sloppy bencode: unsorted keys, leading zeros, a trailing newline', () => {
    const body = latin1('d8:intervali0900e5:peers6:\x7f\x00\x00\x01\x1a\xe18:completei1ee\n')
    expect(parse(body)).toEqual({ interval: 900, complete: 1, peers: [{ host: '127.0.0.1', port: 6881 }] })
  })

  it('defaults a missing interval', () => {
    expect(parse({}).interval).toBe(DEFAULT_INTERVAL)
  })

  it.each<[string, BencodeInput]>([
    ['interval', { interval: -1 }],
    ['interval', { interval: 'soon' }],
    ['interval', { interval: 2n ** 80n }],
    ['min interval', { interval: 1, 'min interval': [] }],
    ['complete', { interval: 1, complete: -5 }],
    ['peers', { interval: 1, peers: 5 }],
    ['peers6', { interval: 1, peers6: {} }],
    ['tracker id', { interval: 1, 'tracker id': 5 }],
    ['tracker id', { interval: 1, 'tracker id': 'x'.repeat(2000) }],
    ['warning message', { interval: 1, 'warning message': {} }],
  ])('rejects a malformed %s', (field, body) => {
    expect(thrown(body)).toMatchObject({ name: 'TrackerResponseError', field, url: URL })
  })

  it('rejects bodies that are not a bencoded dictionary', () => {
    const garbage = thrown(latin1('<html>502 Bad Gateway</html>') as unknown as BencodeInput)
    expect(garbage).toBeInstanceOf(TrackerResponseError)
    expect((garbage as Error).cause).toBeInstanceOf(BencodeDecodeError)
    expect(thrown(['a list'])).toBeInstanceOf(TrackerResponseError)
    expect(thrown(latin1('') as unknown as BencodeInput)).toBeInstanceOf(TrackerResponseError)
    const deep = latin1(`${'l'.repeat(100)}${'e'.repeat(100)}`)
    expect(thrown(deep as unknown as BencodeInput)).toBeInstanceOf(TrackerResponseError)
  })

  it('returns exactly the peers of any compact lists (property)', () => {
    const v4 = fc.record({ host: fc.ipV4(), port: fc.integer({ min: 1, max: 65535 }) })
    const v6 = fc.record({
      host: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => {
        const groups: string[] = []
        for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
        return groups.join(':')
      }),
      port: fc.integer({ min: 1, max: 65535 }),
    })
    fc.assert(
      fc.property(fc.array(v4, { maxLength: 30 }), fc.array(v6, { maxLength: 30 }), (peers4, peers6) => {
        const response = parse({
          interval: 1,
          peers: encodeCompactPeers(peers4, 4),
          peers6: encodeCompactPeers(peers6, 6),
        })
        const expected = new Map<string, PeerAddress>()
        for (const peer of [...peers4, ...peers6]) {
          // @bt/peer-address prints IPv6 in RFC 5952 form.
          const canonical = peer.host.includes(':') ? parsePeerAddress(`[${peer.host}]:${peer.port}`) : peer
          const key = `${canonical.host} ${canonical.port}`
          if (!expected.has(key)) expected.set(key, canonical)
        }
        expect(response.peers).toEqual([...expected.values()])
      }),
    )
  })

  it('never throws anything but its typed errors on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expectTypedOutcome(() => parse(bytes))
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws anything but its typed errors on arbitrary dictionaries with tracker keys (property)', () => {
    const key = fc.constantFrom(
      'interval',
      'min interval',
      'complete',
      'incomplete',
      'tracker id',
      'warning message',
      'failure reason',
      'retry in',
      'peers',
      'peers6',
      'ip',
      'port',
      'peer id',
      'files',
      'downloaded',
    )
    const { value } = fc.letrec<{ value: BencodeInput }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer({ min: -3, max: 70_000 }),
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
        fc.uint8Array({ maxLength: 40 }),
        fc.string({ maxLength: 20 }),
        fc.array(tie('value'), { maxLength: 5 }),
        fc.dictionary(key, tie('value'), { maxKeys: 6 }),
      ),
    }))
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 8 }), (dict) => {
        const body = encode(dict)
        expectTypedOutcome(() => parse(body))
        expectTypedOutcome(() => parseScrapeResponse(body, URL, [new Uint8Array(20)]))
      }),
      { numRuns: 1000 },
    )
  })
})

describe('parseScrapeResponse', () => {
  const a = Uint8Array.from({ length: 20 }, (_, i) => i)
  const b = new Uint8Array(20).fill(0xff)
  const c = new Uint8Array(20).fill(0x61)

  it('reads files keyed by raw 20-byte info hashes, by hex', () => {
    const files = new Map<string, BencodeInput>([
      [bytesToKey(a), { complete: 1, incomplete: 2, downloaded: 3 }],
      [bytesToKey(b), { complete: 4 }],
      [bytesToKey(c), { complete: 9, incomplete: 9, downloaded: 9 }],
    ])
    const result = parseScrapeResponse(encode({ files }), URL, [a, b, new Uint8Array(20)])
    expect([...result]).toEqual([
      ['000102030405060708090a0b0c0d0e0f10111213', { complete: 1, incomplete: 2, downloaded: 3 }],
      ['ffffffffffffffffffffffffffffffffffffffff', { complete: 4, incomplete: 0, downloaded: 0 }],
    ])
  })

  it('finds entries whose keys bittorrent-tracker wrote as UTF-8 (every byte >= 0x80 as two bytes)', () => {
    const mangledKey = bytesToKey(new TextEncoder().encode(bytesToKey(b)))
    expect(mangledKey.length).toBe(40)
    const files = new Map<string, BencodeInput>([[mangledKey, { complete: 1, incomplete: 1, downloaded: 1 }]])
    const result = parseScrapeResponse(encode({ files }), URL, [a, b])
    expect([...result.keys()]).toEqual(['ff'.repeat(20)])
  })

  it('reports failures and malformed files as typed errors', () => {
    expect(() => parseScrapeResponse(encode({ 'failure reason': 'no scrape' }), URL, [a])).toThrow(
      TrackerFailureError,
    )
    expect(() => parseScrapeResponse(encode({ files: [] }), URL, [a])).toThrow(TrackerResponseError)
    expect(() => parseScrapeResponse(encode({}), URL, [a])).toThrow(TrackerResponseError)
    const badEntry = new Map([[bytesToKey(a), 'x']])
    expect(() => parseScrapeResponse(encode({ files: badEntry }), URL, [a])).toThrow(TrackerResponseError)
    const badCount = new Map([[bytesToKey(a), { complete: -1 }]])
    expect(() => parseScrapeResponse(encode({ files: badCount }), URL, [a])).toThrow(TrackerResponseError)
  })
})

function expectTypedOutcome(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    expect(error).toSatisfy(
      (e: unknown) => e instanceof TrackerResponseError || e instanceof TrackerFailureError,
    )
  }
}
