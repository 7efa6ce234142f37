// Announce and scrape response bodies. Trackers are sloppy, so the bencode is decoded leniently
// (unsorted keys, leading zeros, trailing newlines), but every field we use is type-checked and every
// list capped: a hostile tracker gets a typed error or a short list, never a crash or a huge allocation.

import { isIP } from 'node:net'
import {
  type BencodeDict,
  type BencodeValue,
  bytesToKey,
  bytesToUtf8,
  bytesToUtf8Strict,
  decode,
  utf8Key,
} from '@bt/bencode'
import { decodeCompactPeers, type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import { TrackerFailureError, TrackerResponseError } from './errors.js'

/** A peer from a tracker; `peerId` only when the tracker sent a (non-compact) dictionary entry with one. */
export interface AnnouncedPeer extends PeerAddress {
  peerId?: Uint8Array
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce. `1800` when the tracker left it out. */
  interval: number
  /** Seconds the tracker asks us to wait at least between announces. */
  minInterval?: number
  /** To send back as `trackerId` on later announces. */
  trackerId?: Uint8Array
  /** Seeds in the swarm. */
  complete?: number
  /** Leechers in the swarm. */
  incomplete?: number
  /** `warning message`: the request succeeded but the tracker has something to say. */
  warning?: string
  /** IPv4 (`peers`, compact or dictionaries) and IPv6 (`peers6`) peers, deduplicated, capped. */
  peers: AnnouncedPeer[]
}

export interface ScrapeEntry {
  /** Seeds. */
  complete: number
  /** Leechers. */
  incomplete: number
  /** Completed downloads ever reported. */
  downloaded: number
}

/** Swarm counts by lower-case hex info hash; hashes the tracker did not report are absent. */
export type ScrapeResponse = Map<string, ScrapeEntry>

/** Used when a tracker omits `interval` (some do on `stopped`): libtorrent's and most trackers' default. */
export const DEFAULT_INTERVAL = 1800
/** Texts from the tracker (failure reasons, warnings) are cut to this many characters. */
const MAX_TEXT_LENGTH = 1024
/** A `tracker id` is an opaque token; anything longer is not one. */
const MAX_TRACKER_ID_LENGTH = 1024
/** Bencode from a tracker is shallow; deep nesting is an attack, not a response. */
const MAX_DEPTH = 16

export function parseAnnounceResponse(body: Uint8Array, url: string, maxPeers: number): AnnounceResponse {
  const dict = decodeDict(body, url)
  throwIfFailure(dict, url)
  const response: AnnounceResponse = {
    interval: count(dict, 'interval', url) ?? DEFAULT_INTERVAL,
    peers: [],
  }
  const minInterval = count(dict, 'min interval', url)
  if (minInterval !== undefined) response.minInterval = minInterval
  const complete = count(dict, 'complete', url)
  if (complete !== undefined) response.complete = complete
  const incomplete = count(dict, 'incomplete', url)
  if (incomplete !== undefined) response.incomplete = incomplete
  const warning = dict.get('warning message')
  if (warning !== undefined) response.warning = text(bytesField(warning, 'warning message', url))
  const trackerId = dict.get('tracker id')
  if (trackerId !== undefined) {
    const id = bytesField(trackerId, 'tracker id', url)
    if (id.length > MAX_TRACKER_ID_LENGTH) {
      throw new TrackerResponseError(url, `tracker id is ${id.length} bytes long`, { field: 'tracker id' })
    }
    if (id.length > 0) response.trackerId = id.slice()
  }
  const peers = new PeerList(maxPeers)
  addPeers(peers, dict.get('peers'), 4, 'peers', url)
  addPeers(peers, dict.get('peers6'), 6, 'peers6', url)
  response.peers = peers.list
  return response
}

/** Reads the entries of `infoHashes` from a scrape response; hashes the tracker left out are absent. */
export function parseScrapeResponse(
  body: Uint8Array,
  url: string,
  infoHashes: readonly Uint8Array[],
): ScrapeResponse {
  const dict = decodeDict(body, url)
  throwIfFailure(dict, url)
  const files = dict.get('files')
  if (!(files instanceof Map))
    throw new TrackerResponseError(url, 'files is not a dictionary', { field: 'files' })
  const result: ScrapeResponse = new Map()
  for (const infoHash of infoHashes) {
    const key = bytesToKey(infoHash)
    // bittorrent-tracker (webtorrent, v11 and earlier) writes each key byte >= 0x80 as two bytes of
    // UTF-8 (see unmangleUtf8); that form is unique to this hash, so accepting it cannot mix torrents up.
    const entry = files.get(key) ?? files.get(utf8Key(key))
    if (entry === undefined) continue
    if (!(entry instanceof Map)) {
      throw new TrackerResponseError(url, 'a files entry is not a dictionary', { field: 'files' })
    }
    result.set(toHex(infoHash), {
      complete: count(entry, 'complete', url) ?? 0,
      incomplete: count(entry, 'incomplete', url) ?? 0,
      downloaded: count(entry, 'downloaded', url) ?? 0,
    })
  }
  return result
}

function decodeDict(body: Uint8Array, url: string): BencodeDict {
  let value: BencodeValue
  try {
    value = decode(body, { strict: false, maxDepth: MAX_DEPTH })
  } catch (cause) {
    throw new TrackerResponseError(url, 'body is not bencode', { cause })
  }
  if (!(value instanceof Map)) throw new TrackerResponseError(url, 'body is not a bencoded dictionary')
  return value
}

function throwIfFailure(dict: BencodeDict, url: string): void {
  const reason = dict.get('failure reason')
  if (reason === undefined) return
  const retryIn = dict.get('retry in')
  throw new TrackerFailureError(
    url,
    reason instanceof Uint8Array ? text(reason) : '(failure reason is not a string)',
    typeof retryIn === 'number' && retryIn >= 0
      ? retryIn
      : retryIn instanceof Uint8Array && bytesToUtf8(retryIn) === 'never'
        ? 'never'
        : undefined,
  )
}

/** A non-negative safe integer field, or `undefined` when absent. */
function count(dict: BencodeDict, field: string, url: string): number | undefined {
  const value = dict.get(field)
  if (value === undefined) return undefined
  if (typeof value !== 'number' || value < 0) {
    throw new TrackerResponseError(url, `${field} is not a non-negative integer`, { field })
  }
  return value
}

function bytesField(value: BencodeValue, field: string, url: string): Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new TrackerResponseError(url, `${field} is not a string`, { field })
  return value
}

/** Tracker text for logs and terminals: UTF-8 (lossy), control characters replaced, length capped. */
function text(bytes: Uint8Array): string {
  const raw = bytesToUtf8(bytes.subarray(0, MAX_TEXT_LENGTH * 4))
  let out = ''
  for (const char of raw) {
    if (out.length >= MAX_TEXT_LENGTH) break
    const code = char.codePointAt(0)!
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? '\uFFFD' : char
  }
  return out
}

function addPeers(
  peers: PeerList,
  value: BencodeValue | undefined,
  family: 4 | 6,
  field: string,
  url: string,
): void {
  if (value === undefined) return
  if (value instanceof Uint8Array) {
    const size = family === 4 ? 6 : 18
    // Cut before decoding so a huge list never becomes a huge array; a partial entry is dropped.
    const room = Math.max(0, peers.room) * size
    for (const peer of decodeCompactPeers(value.subarray(0, room), family, { strict: false })) peers.add(peer)
    return
  }
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (peers.room <= 0) return
      const peer = dictionaryPeer(entry)
      if (peer) peers.add(peer)
    }
    return
  }
  throw new TrackerResponseError(url, `${field} is neither a compact string nor a list`, { field })
}

/** A BEP 3 dictionary peer, or `undefined` when it is unusable (hostname, bad port…): skip it, keep the rest. */
function dictionaryPeer(entry: BencodeValue): AnnouncedPeer | undefined {
  if (!(entry instanceof Map)) return undefined
  const ip = entry.get('ip')
  const port = entry.get('port')
  if (!(ip instanceof Uint8Array) || ip.length > 64 || typeof port !== 'number') return undefined
  const host = bytesToUtf8(ip)
  const family = isIP(host)
  if (family === 0 || host.includes('%')) return undefined
  let peer: AnnouncedPeer
  try {
    peer = parsePeerAddress(family === 6 ? `[${host}]:${port}` : `${host}:${port}`)
  } catch {
    return undefined
  }
  const peerId = entry.get('peer id')
  if (peerId instanceof Uint8Array) {
    const id = peerId.length === 20 ? peerId.slice() : unmangleUtf8(peerId, 20)
    if (id) peer.peerId = id
  }
  return peer
}

/**
 * bittorrent-tracker (webtorrent, v11 and earlier) sends binary strings UTF-8 encoded: every byte >= 0x80
 * becomes two bytes. Recovers the original when `bytes` is exactly such an encoding of `length` bytes.
 */
function unmangleUtf8(bytes: Uint8Array, length: number): Uint8Array | undefined {
  if (bytes.length <= length || bytes.length > 2 * length) return undefined
  const text = bytesToUtf8Strict(bytes)
  if (text === undefined || text.length !== length) return undefined
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code > 0xff) return undefined
    out[i] = code
  }
  return out
}

/** Peers in arrival order, the first of each address kept, at most `max`. */
class PeerList {
  readonly list: AnnouncedPeer[] = []
  private readonly seen = new Set<string>()

  constructor(private readonly max: number) {}

  get room(): number {
    return this.max - this.list.length
  }

  add(peer: AnnouncedPeer): void {
    if (this.list.length >= this.max) return
    const key = `${peer.host} ${peer.port}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.list.push(peer)
  }
}

function toHex(bytes: Uint8Array): string {
  let hex = ''
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0')
  return hex
}
