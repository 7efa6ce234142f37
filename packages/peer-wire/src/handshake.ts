// The 68-byte BitTorrent handshake and its reserved bits: `\x13BitTorrent protocol`, 8 reserved bytes,
// the 20-byte info hash and the 20-byte peer id.
import { HandshakeError } from './errors.js'

export const HANDSHAKE_LENGTH = 68
export const PROTOCOL = new TextEncoder().encode('\x13BitTorrent protocol')

/** Which extensions a handshake's reserved bytes announce. */
export interface ReservedFeatures {
  /** BEP 10 extension protocol: byte 5, bit 0x10. */
  extended: boolean
  /** BEP 6 fast extension: byte 7, bit 0x04. */
  fast: boolean
  /** BEP 5 DHT: byte 7, bit 0x01. */
  dht: boolean
}

export interface Handshake {
  reserved: Uint8Array
  infoHash: Uint8Array
  peerId: Uint8Array
}

/**
 * Reserved bytes announcing `features`; missing ones are off. `reservedBytes({ extended: true })` is
 * exactly `00 00 00 00 00 10 00 00`.
 */
export function reservedBytes(features: Partial<ReservedFeatures>): Uint8Array {
  const reserved = new Uint8Array(8)
  if (features.extended) reserved[5]! |= 0x10
  if (features.fast) reserved[7]! |= 0x04
  if (features.dht) reserved[7]! |= 0x01
  return reserved
}

export function readReserved(reserved: Uint8Array): ReservedFeatures {
  return {
    extended: (reserved[5]! & 0x10) !== 0,
    fast: (reserved[7]! & 0x04) !== 0,
    dht: (reserved[7]! & 0x01) !== 0,
  }
}

export function encodeHandshake(handshake: Handshake): Uint8Array {
  checkLength('reserved', handshake.reserved, 8)
  checkLength('infoHash', handshake.infoHash, 20)
  checkLength('peerId', handshake.peerId, 20)
  const bytes = new Uint8Array(HANDSHAKE_LENGTH)
  bytes.set(PROTOCOL, 0)
  bytes.set(handshake.reserved, 20)
  bytes.set(handshake.infoHash, 28)
  bytes.set(handshake.peerId, 48)
  return bytes
}

/** Reads a 68-byte handshake; throws `HandshakeError` (`protocol`) when the protocol string is wrong. */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length !== HANDSHAKE_LENGTH) {
    throw new RangeError(`peer-wire: a handshake is ${HANDSHAKE_LENGTH} bytes, got ${bytes.length}`)
  }
  checkProtocol(bytes)
  return {
    reserved: bytes.slice(20, 28),
    infoHash: bytes.slice(28, 48),
    peerId: bytes.slice(48, 68),
  }
}

/** Checks as much of the protocol string as `prefix` holds, so a foreign stream fails on its first bytes. */
export function checkProtocol(prefix: Uint8Array): void {
  const end = Math.min(prefix.length, PROTOCOL.length)
  for (let i = 0; i < end; i++) {
    if (prefix[i] !== PROTOCOL[i]) {
      throw new HandshakeError('protocol', 'the peer did not send the BitTorrent protocol string')
    }
  }
}

function checkLength(field: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new TypeError(`peer-wire: handshake ${field} must be ${length} bytes`)
  }
}
