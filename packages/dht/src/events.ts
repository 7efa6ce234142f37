// What a DHT node reports: typed events, and the conditions it survives as one discriminated union
// (switch on `type`), so logs and the CLI's `--json` read fields, not sentences.
import { formatPeerAddress, type PeerAddress } from '@bt/peer-address'

export interface DhtNodeInfo {
  id: Uint8Array
  host: string
  port: number
}

export type DhtWarning =
  /** Datagrams that were not KRPC, or queries with missing or malformed fields (counted; reported at most once a second). */
  | { type: 'malformed-packet'; from: PeerAddress; reason: string }
  /** Queries from one IP above its rate were dropped (reported at most once a second). */
  | { type: 'rate-limited'; host: string }
  /** The global send budget refused a packet (reported at most once a second). */
  | { type: 'send-budget-exhausted'; dropped: number }
  | { type: 'send-failed'; to: PeerAddress; error: Error }
  | { type: 'bootstrap-resolve-failed'; host: string; error: Error }
  /** No bootstrap node answered: the node has an empty table and waits for nodes to reach it. */
  | { type: 'bootstrap-failed'; tried: number }
  | { type: 'socket-error'; error: Error }
  /** Our external IP became known (BEP 42) and our node id was derived from it. */
  | { type: 'node-id-changed'; externalIp: string; id: Uint8Array }

export type DhtWarningType = DhtWarning['type']

export interface DhtEvents {
  /** The bootstrap is over; `nodes` is the size of the routing table(s) then. */
  ready: [info: { nodes: number }]
  /** A lookup found a peer for `infoHash`. */
  peer: [peer: PeerAddress, infoHash: Uint8Array]
  'node-added': [node: DhtNodeInfo]
  warning: [warning: DhtWarning]
}

export function describeDhtWarning(warning: DhtWarning): string {
  switch (warning.type) {
    case 'malformed-packet':
      return `malformed packet from ${formatPeerAddress(warning.from)}: ${warning.reason}`
    case 'rate-limited':
      return `queries from ${warning.host} rate-limited`
    case 'send-budget-exhausted':
      return `send budget exhausted, ${warning.dropped} packets dropped`
    case 'send-failed':
      return `send to ${formatPeerAddress(warning.to)} failed: ${warning.error.message}`
    case 'bootstrap-resolve-failed':
      return `cannot resolve bootstrap host ${warning.host}: ${warning.error.message}`
    case 'bootstrap-failed':
      return `no bootstrap node answered (${warning.tried} tried)`
    case 'socket-error':
      return `socket error: ${warning.error.message}`
    case 'node-id-changed':
      return `external IP ${warning.externalIp}: node id now ${Buffer.from(warning.id).toString('hex')}`
  }
}
