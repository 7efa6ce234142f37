// BEP 15 datagrams: requests we build, and a total parser for whatever comes back (a malformed
// datagram is a value, never an exception, because it arrives from the network).
import { type AddressFamily, decodeCompactPeers, type PeerAddress } from '@bt/peer-address'

/** The magic connection id of a connect request (BEP 15). */
export const PROTOCOL_ID = 0x41727101980n

export const Action = { connect: 0, announce: 1, scrape: 2, error: 3 } as const

export const EVENT_IDS = { none: 0, completed: 1, started: 2, stopped: 3 } as const

export const ANNOUNCE_REQUEST_SIZE = 98
/** Keeps a scrape request and its answer (8 + 12·74 = 896 bytes) inside common path MTUs. */
export const MAX_SCRAPE_HASHES = 74
/** A tracker's error text is shown to people; more than this is noise. */
const MAX_ERROR_MESSAGE_LENGTH = 1024

export interface AnnounceFields {
  infoHash: Uint8Array
  peerId: Uint8Array
  downloaded: bigint
  left: bigint
  uploaded: bigint
  event: number
  /** IPv4 address as an unsigned 32-bit integer, 0 for "the sender's address". */
  ip: number
  key: number
  /** -1 lets the tracker choose. */
  numwant: number
  port: number
}

function header(size: number, connectionId: Uint8Array | bigint, action: number, transactionId: number) {
  const bytes = new Uint8Array(size)
  const view = new DataView(bytes.buffer)
  if (typeof connectionId === 'bigint') view.setBigUint64(0, connectionId)
  else bytes.set(connectionId.subarray(0, 8), 0)
  view.setUint32(8, action)
  view.setUint32(12, transactionId)
  return { bytes, view }
}

export function encodeConnectRequest(transactionId: number): Uint8Array {
  return header(16, PROTOCOL_ID, Action.connect, transactionId).bytes
}

/** `options` are BEP 41 option bytes appended after the fixed 98-byte request. */
export function encodeAnnounceRequest(
  connectionId: Uint8Array,
  transactionId: number,
  fields: AnnounceFields,
  options: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const { bytes, view } = header(
    ANNOUNCE_REQUEST_SIZE + options.length,
    connectionId,
    Action.announce,
    transactionId,
  )
  bytes.set(fields.infoHash, 16)
  bytes.set(fields.peerId, 36)
  view.setBigUint64(56, fields.downloaded)
  view.setBigUint64(64, fields.left)
  view.setBigUint64(72, fields.uploaded)
  view.setUint32(80, fields.event)
  view.setUint32(84, fields.ip)
  view.setUint32(88, fields.key)
  view.setInt32(92, fields.numwant)
  view.setUint16(96, fields.port)
  bytes.set(options, ANNOUNCE_REQUEST_SIZE)
  return bytes
}

export function encodeScrapeRequest(
  connectionId: Uint8Array,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): Uint8Array {
  const { bytes } = header(16 + 20 * infoHashes.length, connectionId, Action.scrape, transactionId)
  infoHashes.forEach((hash, i) => {
    bytes.set(hash, 16 + 20 * i)
  })
  return bytes
}

export interface ScrapeEntry {
  seeders: number
  completed: number
  leechers: number
}

export type ParsedResponse =
  | { action: 'connect'; transactionId: number; connectionId: Uint8Array }
  | {
      action: 'announce'
      transactionId: number
      interval: number
      leechers: number
      seeders: number
      peers: PeerAddress[]
    }
  | { action: 'scrape'; transactionId: number; entries: ScrapeEntry[] }
  | { action: 'error'; transactionId: number; message: string }
  | { action: 'malformed'; transactionId: number | undefined; reason: string }

/**
 * Parses any datagram a tracker may send. `family` is the address family of the tracker, which
 * fixes the size of announce peer entries (6 bytes over IPv4, 18 over IPv6: BEP 15).
 */
export function parseResponse(datagram: Uint8Array, family: AddressFamily): ParsedResponse {
  if (datagram.length < 8) {
    return { action: 'malformed', transactionId: undefined, reason: `${datagram.length}-byte datagram` }
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength)
  const action = view.getUint32(0)
  const transactionId = view.getUint32(4)
  const malformed = (reason: string): ParsedResponse => ({ action: 'malformed', transactionId, reason })
  switch (action) {
    case Action.connect:
      if (datagram.length < 16) return malformed(`connect response of ${datagram.length} bytes (needs 16)`)
      return { action: 'connect', transactionId, connectionId: Uint8Array.from(datagram.subarray(8, 16)) }
    case Action.announce: {
      if (datagram.length < 20) return malformed(`announce response of ${datagram.length} bytes (needs 20)`)
      const stride = family === 4 ? 6 : 18
      const peerBytes = datagram.subarray(20)
      if (peerBytes.length % stride !== 0) {
        return malformed(`${peerBytes.length} bytes of IPv${family} peers is not a multiple of ${stride}`)
      }
      return {
        action: 'announce',
        transactionId,
        interval: view.getUint32(8),
        leechers: view.getUint32(12),
        seeders: view.getUint32(16),
        peers: decodeCompactPeers(peerBytes, family),
      }
    }
    case Action.scrape: {
      if ((datagram.length - 8) % 12 !== 0) {
        return malformed(`scrape response of ${datagram.length} bytes (8 + 12 per info hash)`)
      }
      const entries: ScrapeEntry[] = []
      for (let at = 8; at < datagram.length; at += 12) {
        entries.push({
          seeders: view.getUint32(at),
          completed: view.getUint32(at + 4),
          leechers: view.getUint32(at + 8),
        })
      }
      return { action: 'scrape', transactionId, entries }
    }
    case Action.error: {
      // Some trackers NUL-terminate the message; the text is for people, so keep it short and printable.
      let end = datagram.length
      while (end > 8 && datagram[end - 1] === 0) end--
      const text = new TextDecoder('utf-8', { fatal: false }).decode(datagram.subarray(8, end))
      return { action: 'error', transactionId, message: printable(text.slice(0, MAX_ERROR_MESSAGE_LENGTH)) }
    }
    default:
      return malformed(`unknown action ${action}`)
  }
}

function printable(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0)!
    out += code < 0x20 || code === 0x7f ? ' ' : char
  }
  return out
}
