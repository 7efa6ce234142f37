// BEP 9 `ut_metadata`: the info dictionary travels between peers in 16 KiB pieces, each message a
// bencoded header (`msg_type`, `piece`, and for data `total_size`) with the piece's bytes after it.
// This file holds the codec and the serving side; metadata-fetch.ts does the fetching.
import { type BencodeValue, decodePrefix, encode } from '@bt/bencode'
import type { PeerConnection, PeerExtension } from '@bt/peer-wire'
import { MetadataMessageError } from './errors.js'

export const UT_METADATA = 'ut_metadata'
/** Every piece but the last is exactly this long (BEP 9). */
export const METADATA_PIECE_SIZE = 16 * 1024
/**
 * The largest info dictionary we accept. Real ones are far smaller (a 22 GB, 10 761-piece torrent has
 * 215 KB); a peer claiming more wants us to allocate it.
 */
export const MAX_METADATA_SIZE = 10 * 1024 * 1024

export type MetadataMessage =
  | { readonly type: 'request'; readonly piece: number }
  | {
      readonly type: 'data'
      readonly piece: number
      readonly totalSize: number
      readonly data: Uint8Array
    }
  | { readonly type: 'reject'; readonly piece: number }

const MSG_TYPE = { request: 0, data: 1, reject: 2 } as const

export function encodeMetadataMessage(message: MetadataMessage): Uint8Array {
  const header = encode(
    message.type === 'data'
      ? { msg_type: MSG_TYPE.data, piece: message.piece, total_size: message.totalSize }
      : { msg_type: MSG_TYPE[message.type], piece: message.piece },
  )
  if (message.type !== 'data') return header
  const out = new Uint8Array(header.length + message.data.length)
  out.set(header)
  out.set(message.data, header.length)
  return out
}

/**
 * Reads a `ut_metadata` message. `undefined` for a `msg_type` this version does not know (BEP 9 says to
 * ignore those); throws `MetadataMessageError` for anything malformed. A data message's bytes are a
 * copy: they never pin the socket chunk they arrived in.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage | undefined {
  let header: { value: BencodeValue; length: number }
  try {
    header = decodePrefix(payload, { strict: false, maxDepth: 4 })
  } catch (error) {
    throw new MetadataMessageError(`the header is not bencode: ${(error as Error).message}`)
  }
  const dict = header.value
  if (!(dict instanceof Map)) throw new MetadataMessageError('the header is not a dictionary')
  const msgType = dict.get('msg_type')
  const piece = dict.get('piece')
  if (!isIndex(msgType)) throw new MetadataMessageError('msg_type is missing or not an integer')
  if (msgType > MSG_TYPE.reject) return undefined
  if (!isIndex(piece)) throw new MetadataMessageError('piece is missing or not an integer')
  const trailing = payload.length - header.length
  if (msgType === MSG_TYPE.data) {
    const totalSize = dict.get('total_size')
    if (!isIndex(totalSize) || totalSize === 0)
      throw new MetadataMessageError('total_size is missing or invalid')
    return { type: 'data', piece, totalSize, data: payload.slice(header.length) }
  }
  if (trailing !== 0) throw new MetadataMessageError(`${trailing} bytes after a header without data`)
  return { type: msgType === MSG_TYPE.request ? 'request' : 'reject', piece }
}

/** Pieces the info dictionary of `size` bytes travels in. */
export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE_SIZE)
}

/** Length of metadata piece `piece` of an info dictionary of `size` bytes. */
export function metadataPieceLength(size: number, piece: number): number {
  return Math.min(METADATA_PIECE_SIZE, size - piece * METADATA_PIECE_SIZE)
}

/** Requests per connection we answer before treating the peer as a flood; more are rejected. */
const MAX_REQUESTS_PER_MINUTE = 600

/**
 * The serving side, for a torrent whose info dictionary we have (`infoBytes`) or not yet (`undefined`:
 * every request is rejected, as BEP 9 asks). Requests past the rate cap are rejected too.
 */
export function metadataServer(getInfoBytes: () => Uint8Array | undefined): PeerExtension {
  const served = new WeakMap<PeerConnection, { windowStart: number; count: number }>()
  return {
    name: UT_METADATA,
    onMessage(conn, payload) {
      let message: MetadataMessage | undefined
      try {
        message = decodeMetadataMessage(payload)
      } catch {
        // A malformed metadata message hurts nobody but its sender; ignoring it keeps the peer's data.
        return
      }
      if (message?.type !== 'request') return
      const now = Date.now()
      let window = served.get(conn)
      if (!window || now - window.windowStart >= 60_000) {
        window = { windowStart: now, count: 0 }
        served.set(conn, window)
      }
      const info = getInfoBytes()
      const piece = message.piece
      const inRange = info !== undefined && piece < metadataPieceCount(info.length)
      const reply: MetadataMessage =
        inRange && ++window.count <= MAX_REQUESTS_PER_MINUTE
          ? {
              type: 'data',
              piece,
              totalSize: info.length,
              data: info.subarray(
                piece * METADATA_PIECE_SIZE,
                piece * METADATA_PIECE_SIZE + metadataPieceLength(info.length, piece),
              ),
            }
          : { type: 'reject', piece }
      if (conn.extendedHandshake?.m.has(UT_METADATA) && !conn.closed)
        conn.sendExtended(UT_METADATA, encodeMetadataMessage(reply))
    },
  }
}

function isIndex(value: BencodeValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
