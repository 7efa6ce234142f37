import { decode, encode } from '@bt/bencode'
import { decodeCompactPeers, formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PexMessageError } from './errors.js'
import {
  checkAddress,
  decodePexMessage,
  encodePexMessage,
  MAX_PEX_ENTRIES,
  MAX_PEX_MESSAGE_SIZE,
  type PexCandidate,
  PexFlags,
  peersToLearn,
  pexDiff,
} from './pex.js'

const v4 = (host: string, port = 6881): PeerAddress => ({ host, port })

/** A compact entry: the IP's bytes then the port, big-endian. */
function entry(ip: number[], port: number): number[] {
  return [...ip, port >> 8, port & 0xff]
}

function dict(entries: Record<string, Uint8Array | number | string>): Uint8Array {
  return encode(entries)
}

function rejection(payload: Uint8Array): PexMessageError {
  try {
    decodePexMessage(payload)
  } catch (error) {
    if (error instanceof PexMessageError) return error
    throw error
  }
  throw new Error('decoded')
}

// Unicast addresses in canonical text, as the decoder gives them back.
const ipv4Peer = fc
  .tuple(
    fc.integer({ min: 1, max: 223 }),
    fc.nat(255),
    fc.nat(255),
    fc.nat(255),
    fc.integer({ min: 1, max: 65535 }),
  )
  .map(([a, b, c, d, port]) => ({ host: `${a}.${b}.${c}.${d}`, port }))
const ipv6Peer = fc
  .tuple(
    fc.integer({ min: 0x20, max: 0xfe }),
    fc.uint8Array({ minLength: 15, maxLength: 15 }),
    fc.integer({ min: 1, max: 65535 }),
  )
  .map(([first, rest, port]) => decodeCompactPeers(Uint8Array.from(entry([first, ...rest], port)), 6)[0]!)

describe('encodePexMessage / decodePexMessage', () => {
  it('writes the BEP 11 keys: IPv4 and IPv6 split, flags aligned, empty keys present', () => {
    const payload = encodePexMessage({
      added: [v4('1.2.3.4', 6881), { host: '2001:db8::1', port: 80 }, v4('5.6.7.8', 1)],
      addedFlags: [PexFlags.reachable, PexFlags.seed, 0],
      dropped: [v4('9.9.9.9', 443)],
    })
    const fields = decode(payload) as Map<string, Uint8Array>
    expect([...fields.keys()]).toEqual(['added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6'])
    expect([...fields.get('added')!]).toEqual([...entry([1, 2, 3, 4], 6881), ...entry([5, 6, 7, 8], 1)])
    expect([...fields.get('added.f')!]).toEqual([0x10, 0])
    expect([...fields.get('added6')!]).toEqual(entry([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1], 80))
    expect([...fields.get('added6.f')!]).toEqual([0x02])
    expect([...fields.get('dropped')!]).toEqual(entry([9, 9, 9, 9], 443))
    expect(fields.get('dropped6')).toHaveLength(0)
  })

  it('round-trips IPv4 and IPv6 contacts with their flags', () => {
    const added = [v4('1.2.3.4'), { host: '2001:db8::7', port: 51413 }]
    expect(decodePexMessage(encodePexMessage({ added, addedFlags: [3, 0x1f], dropped: [] }))).toEqual({
      added,
      addedFlags: [3, 0x1f],
      dropped: [],
    })
  })

  it('round-trips any lists of unicast contacts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ipv4Peer, fc.nat(255)), { maxLength: 60 }),
        fc.array(fc.tuple(ipv6Peer, fc.nat(255)), { maxLength: 60 }),
        fc.array(fc.oneof(ipv4Peer, ipv6Peer), { maxLength: 60 }),
        (added4, added6, dropped) => {
          const added = [...added4, ...added6]
          const message = {
            added: added.map(([peer]) => peer),
            addedFlags: added.map(([, flags]) => flags),
            dropped: [
              ...dropped.filter((peer) => !peer.host.includes(':')),
              ...dropped.filter((peer) => peer.host.includes(':')),
            ],
          }
          expect(decodePexMessage(encodePexMessage(message))).toEqual(message)
        },
      ),
    )
  })

  it('reads a message from another client: unsorted keys, unknown keys, no flags', () => {
    // Hand-written bencode: `dropped` before `added`, an unknown dictionary, no `added.f`.
    const text = 'd7:dropped6:\x05\x06\x07\x08\x00\x505:added6:\x01\x02\x03\x04\x1a\xe11:xd1:ai1eee'
    const payload = Uint8Array.from(text, (char) => char.charCodeAt(0))
    expect(decodePexMessage(payload)).toEqual({
      added: [v4('1.2.3.4', 6881)],
      addedFlags: [0],
      dropped: [v4('5.6.7.8', 80)],
    })
  })

  it('reads an empty message and one without any PEX key', () => {
    expect(decodePexMessage(encodePexMessage({}))).toEqual({ added: [], addedFlags: [], dropped: [] })
    expect(decodePexMessage(dict({ v: 'x' }))).toEqual({ added: [], addedFlags: [], dropped: [] })
  })

  it('leaves out contacts nobody can connect to, keeping the flags of the others', () => {
    const added = Uint8Array.from([
      ...entry([1, 1, 1, 1], 0), // port 0
      ...entry([0, 0, 0, 0], 80), // unspecified
      ...entry([224, 0, 0, 1], 80), // multicast
      ...entry([255, 255, 255, 255], 80), // broadcast
      ...entry([8, 8, 8, 8], 53),
    ])
    const added6 = Uint8Array.from([
      ...entry(Array(16).fill(0), 80), // ::
      ...entry([0xff, 0x02, ...Array(13).fill(0), 1], 80), // ff02::1
      ...entry([...Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1], 6881), // ::ffff:10.0.0.1
    ])
    const message = decodePexMessage(
      dict({
        added,
        'added.f': Uint8Array.from([1, 2, 3, 4, 5]),
        added6,
        'added6.f': Uint8Array.from([6, 7, 8]),
        dropped: Uint8Array.from(entry([0, 0, 0, 0], 1)),
      }),
    )
    expect(message).toEqual({
      added: [v4('8.8.8.8', 53), v4('10.0.0.1', 6881)],
      addedFlags: [5, 8],
      dropped: [],
    })
  })

  it('refuses malformed messages with a typed error', () => {
    const cases: [Uint8Array, PexMessageError['reason']][] = [
      [Uint8Array.from([0x64]), 'not-bencode'],
      [encode([1, 2]), 'not-a-dictionary'],
      [dict({ added: 5 }), 'invalid-field'],
      [encode({ dropped6: [Uint8Array.from(entry([1, 2, 3, 4], 1))] }), 'invalid-field'],
      [dict({ added: Uint8Array.from([1, 2, 3, 4, 5]) }), 'invalid-field'],
      [dict({ added6: new Uint8Array(17) }), 'invalid-field'],
      [
        dict({ added: Uint8Array.from(entry([1, 2, 3, 4], 1)), 'added.f': new Uint8Array(2) }),
        'invalid-field',
      ],
      [dict({ added: Uint8Array.from(entry([1, 2, 3, 4], 1)), 'added.f': 1 }), 'invalid-field'],
      [new Uint8Array(MAX_PEX_MESSAGE_SIZE + 1), 'too-large'],
    ]
    for (const [payload, reason] of cases) {
      const error = rejection(payload)
      expect(error.name).toBe('PexMessageError')
      expect(error.reason).toBe(reason)
      expect(error.message).toMatch(/^client-core: malformed ut_pex message: /)
    }
  })

  it(`takes none of a message with more than ${MAX_PEX_ENTRIES} contacts in a list`, () => {
    const contacts = (count: number, family: 4 | 6) =>
      Uint8Array.from(
        Array.from({ length: count }, (_, i) =>
          entry(
            family === 4 ? [1, 0, i >> 8, i & 0xff] : [0x20, 1, ...Array(12).fill(0), i >> 8, i & 0xff],
            1,
          ),
        ).flat(),
      )
    expect(decodePexMessage(dict({ added: contacts(MAX_PEX_ENTRIES, 4) })).added).toHaveLength(
      MAX_PEX_ENTRIES,
    )
    // The cap counts both families together.
    const split = dict({ added: contacts(150, 4), added6: contacts(51, 6) })
    expect(rejection(split).reason).toBe('too-many')
    expect(rejection(dict({ dropped: contacts(MAX_PEX_ENTRIES + 1, 4) })).reason).toBe('too-many')
  })

  it('turns any input into a message or a PexMessageError (property)', () => {
    const field = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.integer(),
      fc.constant('text'),
      fc.array(fc.integer(), { maxLength: 3 }),
    )
    const keys = fc.constantFrom('added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6', 'other')
    const payloads = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.dictionary(keys, field).map((fields) => encode(fields)),
    )
    fc.assert(
      fc.property(payloads, (payload) => {
        try {
          const message = decodePexMessage(payload)
          expect(message.addedFlags).toHaveLength(message.added.length)
          for (const peer of [...message.added, ...message.dropped]) {
            expect(checkAddress(peer)?.address).toEqual(peer)
          }
        } catch (error) {
          expect(error).toBeInstanceOf(PexMessageError)
        }
      }),
    )
  })

  it('refuses to encode what it could not share', () => {
    expect(() => encodePexMessage({ added: [v4('example.com')] })).toThrow(TypeError)
    expect(() => encodePexMessage({ added: [v4('1.2.3.4', 0)] })).toThrow(TypeError)
    expect(() => encodePexMessage({ dropped: [v4('224.0.0.1')] })).toThrow(TypeError)
    expect(() => encodePexMessage({ added: [v4('1.2.3.4')], addedFlags: [] })).toThrow(TypeError)
    expect(() => encodePexMessage({ added: [v4('1.2.3.4')], addedFlags: [256] })).toThrow(TypeError)
  })
})

describe('addresses', () => {
  it('canonicalises and scopes addresses', () => {
    expect(checkAddress(v4('8.8.8.8'))).toEqual({ address: v4('8.8.8.8'), scope: 'global' })
    expect(checkAddress({ host: '::ffff:127.0.0.1', port: 80 })).toEqual({
      address: v4('127.0.0.1', 80),
      scope: 'local',
    })
    expect(checkAddress({ host: '2001:DB8:0:0:0:0:0:1', port: 80 })?.address.host).toBe('2001:db8::1')
    for (const local of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.1',
      '192.168.1.1',
      '169.254.0.1',
      '::1',
      'fe80::1',
      'fd00::5',
    ]) {
      expect(checkAddress({ host: local, port: 1 })?.scope, local).toBe('local')
    }
    for (const global of ['172.32.0.1', '11.0.0.1', '2001:db8::1', '223.255.255.255']) {
      expect(checkAddress({ host: global, port: 1 })?.scope, global).toBe('global')
    }
    for (const junk of ['0.1.2.3', '239.1.1.1', '240.0.0.1', '::', 'ff05::2', 'fe80::1%eth0', 'localhost']) {
      expect(checkAddress({ host: junk, port: 1 }), junk).toBeUndefined()
    }
    expect(checkAddress(v4('1.2.3.4', 65536))).toBeUndefined()
  })

  it('learns local contacts only from a local sender, without duplicates, up to the limit', () => {
    const added = [v4('192.168.1.1', 22), v4('8.8.8.8'), v4('127.0.0.1', 8080), v4('8.8.8.8'), v4('9.9.9.9')]
    expect(peersToLearn(added, '203.0.113.9', 10)).toEqual([v4('8.8.8.8'), v4('9.9.9.9')])
    expect(peersToLearn(added, '::ffff:192.168.1.20', 10)).toEqual([
      v4('192.168.1.1', 22),
      v4('8.8.8.8'),
      v4('127.0.0.1', 8080),
      v4('9.9.9.9'),
    ])
    expect(peersToLearn(added, '127.0.0.1', 2)).toEqual([v4('192.168.1.1', 22), v4('8.8.8.8')])
  })
})

describe('pexDiff', () => {
  const candidates = (peers: PeerAddress[], flags = 0) =>
    new Map<string, PexCandidate>(
      peers.map((address) => [formatPeerAddress(address), { ...checkAddress(address)!, flags }]),
    )
  const anyone = { scope: 'global' } as const
  const advertised = (peers: PeerAddress[]) =>
    new Map(peers.map((address) => [formatPeerAddress(address), address]))

  it('adds the new, drops the gone, repeats nothing', () => {
    const a = v4('1.0.0.1')
    const b = v4('1.0.0.2')
    const c = v4('1.0.0.3')
    expect(pexDiff(advertised([a, b]), candidates([b, c], PexFlags.reachable), anyone)).toEqual({
      added: [c],
      addedFlags: [PexFlags.reachable],
      dropped: [a],
    })
    expect(pexDiff(advertised([a]), candidates([a]), anyone)).toEqual({
      added: [],
      addedFlags: [],
      dropped: [],
    })
  })

  it('never tells a peer about itself', () => {
    const self = v4('1.0.0.1')
    const other = v4('1.0.0.2')
    const recipient = { key: formatPeerAddress(self), scope: 'global' } as const
    expect(pexDiff(new Map(), candidates([self, other]), recipient).added).toEqual([other])
    // Told before it was known to be this peer (its listen port came later): dropped now.
    expect(pexDiff(advertised([self]), candidates([self, other]), recipient).dropped).toEqual([self])
  })

  it('tells local addresses to local peers only', () => {
    const lan = v4('192.168.1.5')
    const loopback = v4('127.0.0.1', 7000)
    const internet = v4('8.8.8.8')
    const current = candidates([lan, loopback, internet])
    expect(pexDiff(new Map(), current, { scope: 'global' }).added).toEqual([internet])
    expect(pexDiff(new Map(), current, { scope: 'local' }).added).toEqual([lan, loopback, internet])
  })

  it('sends at most 50 of each, and the rest next time', () => {
    const many = Array.from({ length: 120 }, (_, i) => v4(`2.0.${i >> 8}.${i & 0xff}`))
    const told = new Map<string, PeerAddress>()
    const sent: PeerAddress[] = []
    for (const expected of [50, 50, 20, 0]) {
      const diff = pexDiff(told, candidates(many), anyone)
      expect(diff.added).toHaveLength(expected)
      expect(diff.dropped).toEqual([])
      for (const peer of diff.added) told.set(formatPeerAddress(peer), peer)
      sent.push(...diff.added)
    }
    expect(sent).toEqual(many)

    const gone = pexDiff(told, candidates(many.slice(0, 10)), anyone)
    expect(gone.added).toEqual([])
    expect(gone.dropped).toEqual(many.slice(10, 60))
  })

  it('follows a changing set: every added peer is dropped once it goes (property)', () => {
    const pool = Array.from({ length: 80 }, (_, i) => v4(`3.0.0.${i + 1}`))
    fc.assert(
      fc.property(fc.array(fc.subarray(pool), { minLength: 1, maxLength: 8 }), (rounds) => {
        const told = new Map<string, PeerAddress>()
        for (const connected of rounds) {
          // Messages until the diff is empty: then the peer knows exactly the connected set.
          for (;;) {
            const diff = pexDiff(told, candidates(connected), anyone)
            expect(diff.added.length).toBeLessThanOrEqual(50)
            expect(diff.dropped.length).toBeLessThanOrEqual(50)
            if (diff.added.length === 0 && diff.dropped.length === 0) break
            for (const peer of diff.added) told.set(formatPeerAddress(peer), peer)
            for (const peer of diff.dropped) told.delete(formatPeerAddress(peer))
          }
          expect([...told.values()]).toEqual(expect.arrayContaining(connected))
          expect(told.size).toBe(connected.length)
        }
      }),
      { numRuns: 40 },
    )
  })
})
