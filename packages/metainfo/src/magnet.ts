// Magnet links (BEP 9): `magnet:?xt=urn:btih:<hash>&dn=<name>&tr=<tracker>&ws=<web seed>&x.pe=<peer>`.
import { InvalidInfoHashError, InvalidMagnetError, UnsupportedTorrentError } from './errors.js'
import { infoHashToHex, parseInfoHash } from './info-hash.js'
import type { MagnetLink, Metainfo } from './types.js'
import { cleanUrls } from './urls.js'

/** What `toMagnet` needs; a `MagnetLink` is one. The info hash may be hex, base32 or 20 bytes. */
export interface MagnetInput {
  infoHash: string | Uint8Array
  name?: string | undefined
  trackers?: readonly string[]
  webSeeds?: readonly string[]
  peers?: readonly string[]
}

const utf8Decoder = new TextDecoder()
const utf8Encoder = new TextEncoder()

/**
 * Parses a magnet URI. The info hash (`xt=urn:btih:`) may be 40 hex digits or 32 base32 characters,
 * in either case; parameters may be numbered (`tr.1`, `tr.2`) and are percent-decoded (`+` is a space).
 * Unusable tracker and web seed URLs are dropped. Throws `InvalidMagnetError`, or
 * `UnsupportedTorrentError` for a link that carries only a v2 (`btmh`) hash.
 */
export function parseMagnet(uri: string): MagnetLink {
  const text = uri.trim()
  if (!/^magnet:\?/i.test(text)) throw new InvalidMagnetError('uri', 'does not start with "magnet:?"')
  const fragment = text.indexOf('#')
  const query = text.slice('magnet:?'.length, fragment === -1 ? undefined : fragment)

  const params = new Map<string, string[]>()
  for (const part of query.split('&')) {
    if (part === '') continue
    const equals = part.indexOf('=')
    const rawKey = equals === -1 ? part : part.slice(0, equals)
    const key = percentDecode(rawKey)
      .toLowerCase()
      .replace(/\.\d+$/, '')
    const value = equals === -1 ? '' : percentDecode(part.slice(equals + 1))
    const values = params.get(key)
    if (values === undefined) params.set(key, [value])
    else values.push(value)
  }

  const infoHashBytes = readInfoHash(params.get('xt') ?? [])
  const name = params.get('dn')?.[0]
  const peers = new Set<string>()
  for (const peer of params.get('x.pe') ?? []) if (peer.trim() !== '') peers.add(peer.trim())
  return {
    infoHash: infoHashToHex(infoHashBytes),
    infoHashBytes,
    name: name === '' ? undefined : name,
    trackers: cleanUrls(params.get('tr') ?? []),
    webSeeds: cleanUrls(params.get('ws') ?? []),
    peers: [...peers],
  }
}

/**
 * A magnet URI for a torrent or a magnet link: hex info hash, then `dn`, every tracker (all tiers, in
 * order), web seeds and peers, each percent-encoded as UTF-8.
 */
export function toMagnet(source: Metainfo | MagnetInput): string {
  const input: MagnetInput =
    'announceList' in source
      ? {
          infoHash: source.infoHash,
          name: source.name,
          trackers: source.announceList.flat(),
          webSeeds: source.urlList,
        }
      : source
  const infoHash =
    typeof input.infoHash === 'string'
      ? infoHashToHex(parseInfoHash(input.infoHash))
      : infoHashToHex(input.infoHash)
  let uri = `magnet:?xt=urn:btih:${infoHash}`
  if (input.name !== undefined && input.name !== '') uri += `&dn=${percentEncode(input.name)}`
  for (const tracker of input.trackers ?? []) uri += `&tr=${percentEncode(tracker)}`
  for (const webSeed of input.webSeeds ?? []) uri += `&ws=${percentEncode(webSeed)}`
  for (const peer of input.peers ?? []) uri += `&x.pe=${percentEncode(peer)}`
  return uri
}

function readInfoHash(topics: readonly string[]): Uint8Array {
  let found: Uint8Array | undefined
  let hasV2 = false
  for (const topic of topics) {
    const lower = topic.toLowerCase()
    if (lower.startsWith('urn:btmh:')) hasV2 = true
    if (!lower.startsWith('urn:btih:')) continue
    let hash: Uint8Array
    try {
      hash = parseInfoHash(topic.slice('urn:btih:'.length))
    } catch (error) {
      if (!(error instanceof InvalidInfoHashError)) throw error
      throw new InvalidMagnetError('xt', error.message.replace(/^metainfo: /, ''), { cause: error })
    }
    if (found !== undefined && infoHashToHex(found) !== infoHashToHex(hash)) {
      throw new InvalidMagnetError('xt', 'two different urn:btih: info hashes')
    }
    found = hash
  }
  if (found !== undefined) return found
  if (hasV2) {
    throw new UnsupportedTorrentError(
      'v2-only',
      'magnet links with only a v2 info hash (urn:btmh:) are not supported',
    )
  }
  throw new InvalidMagnetError('xt', 'no urn:btih: info hash')
}

/**
 * Lenient percent-decoding: `%XX` runs are read as UTF-8 (invalid bytes become U+FFFD), `+` is a space,
 * and a `%` not followed by two hex digits stays as it is, as magnet links in the wild need.
 */
function percentDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text
  let out = ''
  let bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char === '%' && isHexDigit(text[i + 1]) && isHexDigit(text[i + 2])) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
      continue
    }
    if (bytes.length > 0) {
      out += utf8Decoder.decode(Uint8Array.from(bytes))
      bytes = []
    }
    out += char === '+' ? ' ' : char
  }
  if (bytes.length > 0) out += utf8Decoder.decode(Uint8Array.from(bytes))
  return out
}

function isHexDigit(char: string | undefined): boolean {
  return char !== undefined && /^[0-9a-f]$/i.test(char)
}

/** Everything but RFC 3986 unreserved characters as `%XX` of the UTF-8 bytes. */
function percentEncode(text: string): string {
  let out = ''
  for (const byte of utf8Encoder.encode(text)) {
    const unreserved =
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      byte === 0x7e
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}
