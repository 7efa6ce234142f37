import { describe, expect, it } from 'vitest'
import { HandshakeError } from './errors.js'
import { decodeHandshake, encodeHandshake, readReserved, reservedBytes } from './handshake.js'

describe('handshake', () => {
  it('sets exactly the reserved bits BEP 5, 6 and 10 define', () => {
    expect([...reservedBytes({ extended: true })]).toEqual([0, 0, 0, 0, 0, 0x10, 0, 0])
    expect([...reservedBytes({ extended: true, fast: true, dht: true })]).toEqual([
      0, 0, 0, 0, 0, 0x10, 0, 0x05,
    ])
    expect(readReserved(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfa))).toEqual({
      extended: false,
      fast: false,
      dht: false,
    })
    expect(readReserved(reservedBytes({ fast: true }))).toEqual({ extended: false, fast: true, dht: false })
  })

  it('round-trips and rejects a foreign protocol string', () => {
    const handshake = {
      reserved: reservedBytes({ extended: true }),
      infoHash: new Uint8Array(20).fill(1),
      peerId: new Uint8Array(20).fill(2),
    }
    const bytes = encodeHandshake(handshake)
    expect(bytes.length).toBe(68)
    expect(Buffer.from(bytes.subarray(0, 20)).toString('latin1')).toBe('\x13BitTorrent protocol')
    expect(decodeHandshake(bytes)).toEqual(handshake)
    bytes[5] = 0x74
    expect(() => decodeHandshake(bytes)).toThrow(HandshakeError)
    expect(() => encodeHandshake({ ...handshake, peerId: new Uint8Array(19) })).toThrow(TypeError)
  })
})
