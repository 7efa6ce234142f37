// What a torrent or a metadata fetch survives and reports: a peer banned or dropped, a tracker down, a
// piece that failed its check. One discriminated union (switch on `type`), carried by the `alert` event
// of `TorrentEvents` and `MetadataFetchEvents`, so logs, the CLI's `--json` and a daemon read fields, not
// sentences. `describeAlert` gives the one-line text people read.
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'
import type { EncryptionPolicy } from './encryption-policy.js'
import type { AllTrackersFailedError } from './errors.js'

/** Why a peer's IP address was banned. */
export type BanReason =
  /** Sole sender of a piece that failed its hash check, or sent a block that differs from the verified piece. */
  | 'corrupt-data'
  /** Shared in more failed pieces than chance explains, none of them proven good. */
  | 'repeated-hash-failures'
  /** Sent more blocks nobody asked it for (or of the wrong length) than cancel races explain. */
  | 'unrequested-blocks'
  /** Flooded us with requests, or asked for blocks larger than any client sends. */
  | 'request-flood'
  /** Sent an info dictionary that does not hash to the torrent's info hash. */
  | 'metadata-mismatch'
  /** Broke the `ut_metadata` protocol (malformed messages, a size it changed or cannot have). */
  | 'metadata-protocol'

/** Why a connection was closed by us without a ban. */
export type DropReason =
  /** Owed us blocks and sent none for the snub time while better candidates waited. */
  | 'snubbed'
  /** Nothing to trade either way while better candidates waited. */
  | 'useless'
  /** A metadata fetch: no extension protocol, no `ut_metadata`, a reject, no metadata in time. */
  | 'no-metadata'
  /** A metadata request unanswered in time. */
  | 'metadata-timeout'
  /** The torrent's peer limit was lowered below its connections. */
  | 'peer-limit'

/** How dialling a peer failed. */
export type DialFailure =
  /** Refused, unreachable, or the TCP connect timed out. */
  | 'connect'
  /** TCP connected, then the peer closed it or fell silent before a complete handshake. */
  | 'handshake'
  /** The handshake was wrong (another torrent, a bad protocol string). */
  | 'protocol'

export type Alert =
  | { type: 'peer-banned'; address: PeerAddress; reason: BanReason; detail: string }
  | { type: 'peer-dropped'; address: PeerAddress; reason: DropReason; detail: string }
  /** An open connection ended with an error (the peer closed it, a protocol error, a timeout). */
  | { type: 'peer-disconnected'; address: PeerAddress; error: Error }
  /**
   * Every known peer failed to connect and none is left to try now: the swarm is stuck until new peers
   * come. `failures` counts the peers by how their last attempt failed.
   */
  | {
      type: 'peers-unreachable'
      known: number
      failures: Record<DialFailure, number>
      /** The swarm's encryption policy: it says what a hang-up likely means. */
      encryption?: EncryptionPolicy
    }
  | { type: 'tracker-failed'; url: string; error: Error }
  /** A web seed request failed; the seed backs off (or is dropped, see `web-seed-dropped`). */
  | { type: 'web-seed-failed'; url: string; error: Error }
  /**
   * A web seed no longer serves `fileIndex` this session (missing there, or its data failed the hash),
   * or, without `fileIndex`, at all (a relative or non-http(s) URL).
   */
  | { type: 'web-seed-dropped'; url: string; fileIndex: number | undefined; reason: string }
  /** A DHT lookup or announce for the torrent failed (the DHT itself keeps running). */
  | { type: 'dht-failed'; error: Error }
  | { type: 'all-trackers-failed'; error: AllTrackersFailedError }
  /** A piece failed its hash check; `peers` sent its blocks. */
  | { type: 'piece-failed'; index: number; peers: PeerAddress[] }
  /** A metadata copy assembled from several peers did not hash right: each peer is now asked alone. */
  | { type: 'metadata-failed'; peers: PeerAddress[] }

export type AlertType = Alert['type']

/** One line for people: `banned peer 127.0.0.9:6881 (corrupt-data): sent a corrupt block of piece 3`. */
export function describeAlert(alert: Alert): string {
  switch (alert.type) {
    case 'peer-banned':
      return `banned peer ${formatPeerAddress(alert.address)} (${alert.reason}): ${alert.detail}`
    case 'peer-dropped':
      return `dropped peer ${formatPeerAddress(alert.address)} (${alert.reason}): ${alert.detail}`
    case 'peer-disconnected':
      return `peer ${formatPeerAddress(alert.address)} disconnected: ${alert.error.message}`
    case 'peers-unreachable':
      return describeUnreachable(alert.known, alert.failures, alert.encryption)
    case 'tracker-failed':
      return `tracker ${alert.url}: ${alert.error.message}`
    case 'all-trackers-failed':
      return alert.error.message
    case 'dht-failed':
      return `DHT lookup failed: ${alert.error.message}`
    case 'web-seed-failed':
      return `web seed ${alert.url}: ${alert.error.message}`
    case 'web-seed-dropped':
      return `web seed ${alert.url} dropped${alert.fileIndex === undefined ? '' : ` for file ${alert.fileIndex}`}: ${alert.reason}`
    case 'piece-failed':
      return `piece ${alert.index} failed its hash check (from ${alert.peers.map(formatPeerAddress).join(', ')})`
    case 'metadata-failed':
      return `metadata from ${alert.peers.length} peers failed the info hash check; asking each alone`
  }
}

const FAILURE_PHRASES: Record<DialFailure, string> = {
  connect: 'refused the connection or did not answer',
  handshake: 'closed the connection during the handshake',
  protocol: 'answered with a wrong handshake',
}

/**
 * What peers that refuse TCP or hang up during the handshake often are: ones that speak only uTP, or
 * only MSE when we dialled plain — or, when we insist on MSE, ones that do not speak it.
 */
const UNREACHABLE_HINTS: Record<EncryptionPolicy, string> = {
  prefer: ' (they may only speak uTP)',
  require: ' (encryption is required: they may not accept it, or only speak uTP)',
  allow: ' (they may require encryption or uTP)',
  off: ' (they may require encryption or uTP)',
}

function describeUnreachable(
  known: number,
  failures: Record<DialFailure, number>,
  encryption: EncryptionPolicy | undefined,
): string {
  const peers = known === 1 ? 'the only known peer' : `all ${known} known peers`
  const kinds = (Object.keys(FAILURE_PHRASES) as DialFailure[]).filter((kind) => failures[kind] > 0)
  // Under `require` a wrong answer (a plain handshake to our key) says the same as a hang-up.
  const telling = failures.connect + failures.handshake + (encryption === 'require' ? failures.protocol : 0)
  const hint = telling > 0 ? UNREACHABLE_HINTS[encryption ?? 'allow'] : ''
  if (kinds.length === 1) return `${peers} ${FAILURE_PHRASES[kinds[0]!]}${hint}`
  const parts = kinds.map((kind) => `${failures[kind]} ${FAILURE_PHRASES[kind]}`)
  return `${peers} failed: ${parts.join(', ')}${hint}`
}
