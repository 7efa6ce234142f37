// The BEP 10 extended handshake (extended message id 0): a bencoded dictionary whose `m` maps extension
// names to the message ids its sender wants to receive them under, plus `v`, `p`, `reqq`, `yourip` and
// BEP 9's `metadata_size`. Peers' dictionaries are read leniently: a field of the wrong type is ignored.
import {
  type BencodeDict,
  type BencodeInput,
  type BencodeValue,
  bytesToUtf8,
  decode,
  encode,
  keyToUtf8,
  utf8Key,
} from '@bt/bencode'
import { PeerProtocolError } from './errors.js'
import { MessageId } from './messages.js'

/** A peer's extended handshake, merged over every one it sent (BEP 10 allows updates). */
export interface ExtendedHandshake {
  /** Extension name → the peer's id for it. Names the peer disabled (id 0) are absent. */
  readonly m: ReadonlyMap<string, number>
  /** Client name and version (`v`). */
  readonly v?: string
  /** The peer's TCP listen port (`p`). */
  readonly p?: number
  /** How many outstanding requests the peer accepts (`reqq`). */
  readonly reqq?: number
  /** BEP 9: size of the info dictionary, when the peer has it. */
  readonly metadataSize?: number
  /** Our IP address as the peer sees it: 4 or 16 bytes. */
  readonly yourip?: Uint8Array
  /** The last dictionary received, with binary-string keys, for fields not listed here. */
  readonly dict: BencodeDict
}

/** What we put in our extended handshake besides `m` and `yourip`. */
export interface ExtendedHandshakeInit {
  /** `v`: client name and version, e.g. `BT 0.1.0`. */
  version?: string
  /** `p`: our TCP listen port. */
  listenPort?: number
  /** `reqq`: how many outstanding requests we accept. */
  requestQueueLength?: number
  /** `metadata_size` (BEP 9), when we have the info dictionary. */
  metadataSize?: number
  /** Further entries (e.g. `upload_only`); they never replace the ones above. */
  extra?: Readonly<Record<string, BencodeInput>>
}

/** The bencoded payload of our extended handshake. */
export function encodeExtendedHandshake(
  m: ReadonlyMap<string, number>,
  init: ExtendedHandshakeInit = {},
  yourip?: Uint8Array,
): Uint8Array {
  const dict: Record<string, BencodeInput | undefined> = { ...init.extra }
  // Map keys are binary strings in bencode's encoder: names go out as UTF-8.
  dict.m = new Map([...m].map(([name, id]) => [utf8Key(name), id]))
  dict.v = init.version
  dict.p = init.listenPort
  dict.reqq = init.requestQueueLength
  dict.metadata_size = init.metadataSize
  dict.yourip = yourip
  return encode(dict)
}

/**
 * Reads a peer's extended handshake payload, merged over `previous` (an earlier one from the same peer).
 * Throws `PeerProtocolError` when it is not a bencoded dictionary.
 */
export function decodeExtendedHandshake(
  payload: Uint8Array,
  previous?: ExtendedHandshake,
): ExtendedHandshake {
  let dict: BencodeValue
  try {
    // Real clients send unsorted keys now and then; lenient decoding still rejects malformed input.
    // A copy: byte strings in the result are views, and must not pin the peer's whole socket chunk.
    dict = decode(payload.slice(), { strict: false, maxDepth: 16 })
  } catch (error) {
    throw invalid(`extended handshake is not bencode: ${(error as Error).message}`)
  }
  if (!(dict instanceof Map)) throw invalid('extended handshake is not a dictionary')

  const m = new Map(previous?.m)
  const ids = dict.get('m')
  if (ids instanceof Map) {
    for (const [key, id] of ids) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 255) continue
      const name = keyToUtf8(key)
      if (id === 0) m.delete(name)
      else m.set(name, id)
    }
  }
  const handshake: {
    -readonly [K in keyof ExtendedHandshake]: ExtendedHandshake[K]
  } = { m, dict }
  const v = dict.get('v')
  const p = dict.get('p')
  const reqq = dict.get('reqq')
  const metadataSize = dict.get('metadata_size')
  const yourip = dict.get('yourip')
  handshake.v = v instanceof Uint8Array ? bytesToUtf8(v) : previous?.v
  handshake.p = isInteger(p, 1, 0xffff) ? p : previous?.p
  handshake.reqq = isInteger(reqq, 1, Number.MAX_SAFE_INTEGER) ? reqq : previous?.reqq
  handshake.metadataSize = isInteger(metadataSize, 1, Number.MAX_SAFE_INTEGER)
    ? metadataSize
    : previous?.metadataSize
  handshake.yourip =
    yourip instanceof Uint8Array && (yourip.length === 4 || yourip.length === 16) ? yourip : previous?.yourip
  for (const key of ['v', 'p', 'reqq', 'metadataSize', 'yourip'] as const) {
    if (handshake[key] === undefined) delete handshake[key]
  }
  return handshake
}

function isInteger(value: BencodeValue | undefined, min: number, max: number): value is number {
  return typeof value === 'number' && value >= min && value <= max
}

function invalid(detail: string): PeerProtocolError {
  return new PeerProtocolError('invalid-extended-handshake', MessageId.extended, detail)
}
