import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalIp, ipFromBytes, ipToBytes, PeerAddressError } from './index.js'

const isMapped = (bytes: Uint8Array) =>
  bytes.length === 16 &&
  bytes.subarray(0, 10).every((byte) => byte === 0) &&
  bytes[10] === 0xff &&
  bytes[11] === 0xff

/** WHATWG URL serialises IPv6 hosts in RFC 5952 form (mapped addresses in hex): an independent oracle. */
const urlIPv6 = (host: string) => new URL(`http://[${host}]/`).hostname.slice(1, -1)

describe('ipToBytes', () => {
  it('encodes IPv4, IPv4-mapped IPv6 and IPv6 addresses', () => {
    expect([...ipToBytes('127.0.0.1')!]).toEqual([127, 0, 0, 1])
    expect([...ipToBytes('::ffff:10.1.2.3')!]).toEqual([10, 1, 2, 3])
    expect([...ipToBytes('::FFFF:a01:203')!]).toEqual([10, 1, 2, 3])
    expect([...ipToBytes('::1')!]).toEqual([...new Array(15).fill(0), 1])
    expect([...ipToBytes('::')!]).toEqual(new Array(16).fill(0))
    expect([...ipToBytes('2001:db8::ff00:42:8329')!]).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29,
    ])
    // IPv4-compatible (deprecated) and IPv4-translated addresses are IPv6, not IPv4.
    expect(ipToBytes('::1.2.3.4')).toHaveLength(16)
    expect(ipToBytes('::ffff:0:1.2.3.4')).toHaveLength(16)
  })

  it.each([
    'not an address',
    '',
    'localhost',
    '1.2.3',
    '01.2.3.4',
    '256.0.0.1',
    '[::1]',
    '1.2.3.4:80',
    'fe80::1%eth0',
  ])('gives undefined for %j', (host) => {
    expect(ipToBytes(host)).toBeUndefined()
  })
})

describe('ipFromBytes', () => {
  it('formats IPv4 and RFC 5952 IPv6', () => {
    expect(ipFromBytes(Uint8Array.from([10, 0, 0, 1]))).toBe('10.0.0.1')
    expect(ipFromBytes(ipToBytes('2001:0DB8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1')
    expect(ipFromBytes(ipToBytes('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1')
    expect(ipFromBytes(new Uint8Array(16))).toBe('::')
    const mapped = Uint8Array.from([...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1])
    expect(ipFromBytes(mapped)).toBe('::ffff:192.0.2.1')
  })

  it('reads at an offset, with the family given or taken from the length left', () => {
    const bytes = Uint8Array.from([9, 9, 1, 2, 3, 4, 9])
    expect(ipFromBytes(bytes, 2, 4)).toBe('1.2.3.4')
    expect(ipFromBytes(bytes.subarray(0, 6), 2)).toBe('1.2.3.4')
    const padded = new Uint8Array(20)
    padded[18] = 1
    expect(ipFromBytes(padded, 3, 6)).toBe('::1')
    expect(ipFromBytes(padded, 4)).toBe('::100')
  })

  it.each([
    [new Uint8Array(5), 0, undefined],
    [new Uint8Array(3), 0, 4],
    [new Uint8Array(16), 1, 6],
    [new Uint8Array(4), -1, 4],
    [new Uint8Array(8), 0.5, 4],
  ] as const)('throws on %j at offset %d (family %s)', (bytes, offset, family) => {
    expect(() => ipFromBytes(bytes, offset, family)).toThrow(PeerAddressError)
  })

  it('round-trips any 4 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(ipToBytes(ipFromBytes(bytes))).toEqual(bytes)
      }),
    )
  })

  it('round-trips any 16 bytes, IPv4-mapped ones to their IPv4 bytes', () => {
    const mapped = fc
      .uint8Array({ minLength: 4, maxLength: 4 })
      .map((v4) => Uint8Array.from([...new Array(10).fill(0), 0xff, 0xff, ...v4]))
    // Zero runs are where RFC 5952's `::` rules bite.
    const sparse = fc.array(fc.constantFrom(0, 0, 0, 1, 0xff, 0xab), { minLength: 16, maxLength: 16 })
    const any16 = fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      mapped,
      sparse.map((values) => Uint8Array.from(values)),
    )
    fc.assert(
      fc.property(any16, (bytes) => {
        const text = ipFromBytes(bytes)
        expect(ipToBytes(text)).toEqual(isMapped(bytes) ? bytes.subarray(12) : bytes)
        if (!isMapped(bytes)) expect(text).toBe(urlIPv6(text))
      }),
    )
  })
})

describe('canonicalIp', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['0:0:0:0:0:FFFF:0102:0304', '1.2.3.4'],
    ['2001:DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['FE80::0001%2', 'fe80::1'],
  ])('%s is %s', (host, key) => {
    expect(canonicalIp(host)).toBe(key)
  })

  it.each(['localhost', '', '1.2.3.04', '[::1]', 'example.com', '::1:'])('%j is no IP', (host) => {
    expect(canonicalIp(host)).toBeUndefined()
  })

  it('gives every spelling of an address one key, the text of its bytes', () => {
    const spellings = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.ipV6().map((host) => host.toUpperCase()),
    )
    fc.assert(
      fc.property(spellings, (host) => {
        const key = canonicalIp(host)
        expect(key).toBeDefined()
        expect(canonicalIp(key!)).toBe(key)
        expect(key).toBe(ipFromBytes(ipToBytes(host)!))
        expect(canonicalIp(expandIPv6(ipToBytes(host)!))).toBe(key)
      }),
    )
  })
})

/** The longest spelling of an address: eight 4-digit uppercase groups (IPv4 bytes mapped first). */
function expandIPv6(bytes: Uint8Array): string {
  const full = bytes.length === 4 ? Uint8Array.from([...new Array(10).fill(0), 0xff, 0xff, ...bytes]) : bytes
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) {
    groups.push(((full[i]! << 8) | full[i + 1]!).toString(16).toUpperCase().padStart(4, '0'))
  }
  return groups.join(':')
}
