// The BEP 29 packet: a 20-byte header, a chain of extensions (selective ack is the one we act on;
// unknown ones are skipped by their length) and a payload. Decoding validates everything and never
// throws: a datagram that does not parse is simply not uTP.

export const ST_DATA = 0
export const ST_FIN = 1
export const ST_STATE = 2
export const ST_RESET = 3
export const ST_SYN = 4
export type PacketType = 0 | 1 | 2 | 3 | 4

export const UTP_VERSION = 1
export const HEADER_SIZE = 20
export const EXTENSION_NONE = 0
export const EXTENSION_SACK = 1

/** A decoded packet. One instance is reused per socket, so it is only valid until the next decode. */
export interface Packet {
  type: PacketType
  connectionId: number
  timestamp: number
  timestampDiff: number
  windowSize: number
  seq: number
  ack: number
  /** Offset and length of the selective-ack bitmask in the datagram; length 0 when absent. */
  sackOffset: number
  sackLength: number
  /** Offset of the payload (after every extension). */
  payloadOffset: number
}

export function createPacket(): Packet {
  return {
    type: ST_DATA,
    connectionId: 0,
    timestamp: 0,
    timestampDiff: 0,
    windowSize: 0,
    seq: 0,
    ack: 0,
    sackOffset: 0,
    sackLength: 0,
    payloadOffset: HEADER_SIZE,
  }
}

/**
 * Whether a datagram looks like uTP by its first byte, as libtorrent demultiplexes its shared UDP
 * socket: version 1 in the low nibble, type ≤ 4 in the high one, and a full header. Bencoded DHT
 * messages start with 'd' (0x64) and never match.
 */
export function isUtpPacket(datagram: Uint8Array): boolean {
  if (datagram.length < HEADER_SIZE) return false
  const first = datagram[0]!
  return (first & 0x0f) === UTP_VERSION && first >> 4 <= ST_SYN
}

/** Fills `out` from `datagram`; false (and `out` unspecified) when it is not a valid uTP packet. */
export function decodePacket(datagram: Uint8Array, out: Packet): boolean {
  const length = datagram.length
  if (!isUtpPacket(datagram)) return false
  const d = datagram
  out.type = (d[0]! >> 4) as PacketType
  out.connectionId = (d[2]! << 8) | d[3]!
  out.timestamp = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0
  out.timestampDiff = ((d[8]! << 24) | (d[9]! << 16) | (d[10]! << 8) | d[11]!) >>> 0
  out.windowSize = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0
  out.seq = (d[16]! << 8) | d[17]!
  out.ack = (d[18]! << 8) | d[19]!
  out.sackOffset = 0
  out.sackLength = 0
  let extension = d[1]!
  let offset = HEADER_SIZE
  while (extension !== EXTENSION_NONE) {
    if (offset + 2 > length) return false
    const next = d[offset]!
    const extensionLength = d[offset + 1]!
    offset += 2
    if (offset + extensionLength > length) return false
    if (extension === EXTENSION_SACK && out.sackLength === 0) {
      // BEP 29 says a whole number of 32-bit words, but libtorrent sends (span + 7) / 8 bytes, any
      // length: take them all. An empty mask says nothing.
      out.sackOffset = offset
      out.sackLength = extensionLength
    }
    offset += extensionLength
    extension = next
  }
  out.payloadOffset = offset
  return true
}

/** Writes the 20-byte header at `offset` of `target` (which must have room). */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  type: PacketType,
  extension: number,
  connectionId: number,
  timestamp: number,
  timestampDiff: number,
  windowSize: number,
  seq: number,
  ack: number,
): void {
  const t = target
  const o = offset
  t[o] = (type << 4) | UTP_VERSION
  t[o + 1] = extension
  t[o + 2] = connectionId >>> 8
  t[o + 3] = connectionId
  writeU32(t, o + 4, timestamp)
  writeU32(t, o + 8, timestampDiff)
  writeU32(t, o + 12, windowSize)
  t[o + 16] = seq >>> 8
  t[o + 17] = seq
  t[o + 18] = ack >>> 8
  t[o + 19] = ack
}

/** Rewrites the fields that change on every (re)transmission of a stored packet. */
export function refreshHeader(
  target: Uint8Array,
  timestamp: number,
  timestampDiff: number,
  windowSize: number,
  ack: number,
): void {
  writeU32(target, 4, timestamp)
  writeU32(target, 8, timestampDiff)
  writeU32(target, 12, windowSize)
  target[18] = ack >>> 8
  target[19] = ack
}

function writeU32(t: Uint8Array, o: number, value: number): void {
  t[o] = value >>> 24
  t[o + 1] = value >>> 16
  t[o + 2] = value >>> 8
  t[o + 3] = value
}
