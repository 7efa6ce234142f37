// One uTP connection (BEP 29) as a Node Duplex: sequence numbers, acks and selective acks,
// retransmission (RTO, fast retransmit on duplicate acks and SACK), LEDBAT, the advertised receive
// window, Nagle-like coalescing, FIN/RESET. The socket (socket.ts) demultiplexes datagrams into
// `handlePacket`, drives `tick` and sends what we hand it; everything here runs on the caller's stack.

import { Duplex } from 'node:stream'
import { addDelaySample, createDelayHistory } from './delay-history.js'
import {
  UtpConnectionRefusedError,
  UtpConnectionResetError,
  UtpConnectTimeoutError,
  UtpTimeoutError,
} from './errors.js'
import {
  createLedbatState,
  LEDBAT_DEFAULTS,
  type LedbatInit,
  ledbatOnAck,
  ledbatOnLoss,
  ledbatOnTimeout,
} from './ledbat.js'
import {
  EXTENSION_NONE,
  EXTENSION_SACK,
  HEADER_SIZE,
  type Packet,
  type PacketType,
  refreshHeader,
  ST_DATA,
  ST_FIN,
  ST_RESET,
  ST_STATE,
  ST_SYN,
  writeHeader,
} from './packet.js'
import { addRttSample, createRttEstimate, retransmitTimeout } from './rtt.js'
import { MAX_SACK_BYTES, sackBit, writeSack } from './sack.js'
import { SEQ_MASK, seqAdd, seqDistance, seqLess } from './seq.js'

/** Packets in flight and in the reorder buffer are kept in rings of this many slots (a power of 2). */
const RING = 2048
const RING_MASK = RING - 1
const DUPLICATE_ACK_LIMIT = 3
/** Keep NAT mappings (and the peer's idle timer) alive: libtorrent's 29 s, sooner under a short idle limit. */
const KEEPALIVE_MS = 29_000
/** A cleanly closed connection stays registered this long to re-ack a retransmitted FIN. */
const LINGER_MS = 3_000

/** Tunables shared by every connection of a socket; the defaults follow libtorrent. */
export interface ConnectionOptions {
  /** Payload bytes per packet. Default 1400 (≤ 1472 − 20 so it fits libtorrent's 1500-byte buffers). */
  packetSize: number
  /** The most unread bytes we accept from the peer (our advertised window). Default 1 MiB. */
  receiveWindow: number
  /** `write()` returns false once this many bytes wait to be packetised (the writable high-water mark). Default 256 KiB. */
  sendBuffer: number
  /** LEDBAT target delay, µs. Default 100 000. */
  targetDelayUs: number
  /** LEDBAT most window growth per RTT, bytes. Default 3000. */
  gainBytes: number
  /** Floor of the retransmission timeout, ms. Default 500. */
  minRtoMs: number
  /** Consecutive retransmission timeouts before the connection fails. Default 6. */
  maxTimeouts: number
  /** Fail a connection that received nothing for this long, ms. Default 120 000. */
  idleTimeoutMs: number
}

export const DEFAULT_CONNECTION_OPTIONS: ConnectionOptions = {
  packetSize: 1400,
  receiveWindow: 1 << 20,
  sendBuffer: 256 * 1024,
  targetDelayUs: LEDBAT_DEFAULTS.targetDelayUs,
  gainBytes: LEDBAT_DEFAULTS.gainBytes,
  minRtoMs: 500,
  maxTimeouts: 6,
  idleTimeoutMs: 120_000,
}

/** What a connection needs from its socket. */
export interface ConnectionHost {
  /** Sends `length` bytes of `datagram`; `onSent` runs once the kernel has the bytes. */
  sendPacket(datagram: Uint8Array, length: number, port: number, host: string, onSent?: () => void): void
  /** Asks for `flushAck` once the current batch of datagrams has been handled. */
  deferAck(connection: Connection): void
  /** The connection is finished; forget it (after `lingerMs`). */
  remove(connection: Connection, lingerMs: number): void
}

/** Counters and estimates of one connection, for diagnostics and tests. */
export interface UtpConnectionStats {
  /** Smoothed round-trip time, ms (undefined before the first sample). */
  rttMs: number | undefined
  rtoMs: number
  /** LEDBAT congestion window, bytes. */
  congestionWindow: number
  /** The one-way queuing delay of our packets last measured (above the base delay), µs. */
  queuingDelayUs: number
  bytesInFlight: number
  /** The peer's last advertised receive window, bytes. */
  peerWindow: number
  /** Bytes received but not yet read (readable buffer plus out-of-order packets). */
  receiveBuffered: number
  /** Bytes written but not yet packetised. */
  sendQueued: number
  packetsSent: number
  packetsReceived: number
  /** Payload bytes packetised for the first time / delivered in order to the reader. */
  bytesSent: number
  bytesReceived: number
  retransmits: number
  timeouts: number
}

/** A uTP connection: a Duplex with the remote address and a few diagnostics. */
export interface UtpConnection extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly remoteFamily: 'IPv4' | 'IPv6'
  readonly localAddress: string
  readonly localPort: number
  stats(): UtpConnectionStats
}

interface OutPacket {
  buf: Buffer
  length: number
  payload: number
  seq: number
  sentAt: number
  transmissions: number
  /** Counted in bytesInFlight (false once a timeout declared it lost and it awaits a resend). */
  inFlight: boolean
  needsResend: boolean
  fastResent: boolean
  /** Sends handed to the OS but not completed; the buffer is recycled only at 0. */
  sending: number
  recycle: boolean
  onSent: () => void
}

type State = 'syn-sent' | 'connected' | 'closed'

/** Microsecond timestamps for the wire (u32, wrapping every 71.6 minutes), from the monotonic clock. */
export function microseconds(nowMs: number): number {
  return Math.round(nowMs * 1000) >>> 0
}

export class Connection extends Duplex implements UtpConnection {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly remoteFamily: 'IPv4' | 'IPv6'
  readonly localAddress: string
  readonly localPort: number
  readonly recvId: number
  readonly sendId: number

  private state: State
  private readonly host: ConnectionHost
  private readonly options: ConnectionOptions
  private readonly ledbatInit: LedbatInit
  private readonly ledbat
  private readonly rtt = createRttEstimate()
  private readonly delays = createDelayHistory()

  /** Next sequence number we send. */
  private seqNr: number
  /** Every packet up to this one has been acked. */
  private lastAcked: number
  /** Last in-order packet received from the peer. */
  private ackNr = 0
  private readonly outbuf: (OutPacket | undefined)[] = new Array(RING)
  private outCount = 0
  private bytesInFlight = 0
  private resendPending = 0
  private readonly freePackets: OutPacket[] = []

  /** Out-of-order payloads by seq; allocated on the first gap, as most connections never see one. */
  private inbuf: (Buffer | undefined)[] | undefined
  private inCount = 0
  private inBytes = 0
  private inHighest = 0

  private peerWindow: number
  private replyMicro = 0
  private dupAcks = 0
  private lossSeq: number
  private timeouts = 0
  /** When the oldest unacked packet times out (ms, 0 = no timer). */
  private rtoDeadline = 0
  private cwndLimited = false
  private lastAdvertised = 0
  private lastReceivedAt: number
  private lastSentAt: number

  private readonly sendQueue: Buffer[] = []
  private sendHead = 0
  private sendHeadOffset = 0
  private sendQueued = 0
  private writeCallback: ((error?: Error | null) => void) | undefined

  private ending = false
  private finSeq = -1
  private finalCallback: ((error?: Error | null) => void) | undefined
  private finAcked = false
  private peerFinSeq = -1
  private readEnded = false
  ackPending = false
  /** Set by the socket while this connection waits in its deferred-ack list. */
  ackQueued = false

  /** Payload of the packet `ackPacket` last removed (a second return value without an allocation). */
  private lastAckedPayload = 0
  private queuingDelayUs = 0
  private packetsSent = 0
  private bytesSent = 0
  private bytesReceived = 0
  private packetsReceived = 0
  private retransmits = 0
  private totalTimeouts = 0

  private connectResolve: (() => void) | undefined
  private connectReject: ((error: Error) => void) | undefined

  constructor(init: {
    host: ConnectionHost
    options: ConnectionOptions
    remoteAddress: string
    remotePort: number
    remoteFamily: 'IPv4' | 'IPv6'
    localAddress: string
    localPort: number
    recvId: number
    sendId: number
    nowMs: number
    /** For an incoming connection: the SYN that opens it. */
    syn?: Packet
  }) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: 64 * 1024,
      writableHighWaterMark: init.options.sendBuffer,
    })
    this.host = init.host
    this.options = init.options
    this.remoteAddress = init.remoteAddress
    this.remotePort = init.remotePort
    this.remoteFamily = init.remoteFamily
    this.localAddress = init.localAddress
    this.localPort = init.localPort
    this.recvId = init.recvId
    this.sendId = init.sendId
    this.ledbatInit = {
      targetDelayUs: init.options.targetDelayUs,
      gainBytes: init.options.gainBytes,
      lossFactor: LEDBAT_DEFAULTS.lossFactor,
      mss: init.options.packetSize,
    }
    this.ledbat = createLedbatState(this.ledbatInit)
    this.seqNr = (Math.random() * 0x10000) & SEQ_MASK
    this.lastAcked = seqAdd(this.seqNr, -1)
    this.lossSeq = this.lastAcked
    this.peerWindow = init.options.packetSize
    this.lastReceivedAt = init.nowMs
    this.lastSentAt = init.nowMs
    if (init.syn) {
      // Acceptor (BEP 29): connected at once; our STATE carries the seq_nr of our first data packet,
      // since ST_STATE does not consume a sequence number.
      this.state = 'connected'
      this.ackNr = init.syn.seq
      this.inHighest = this.ackNr
      this.peerWindow = init.syn.windowSize
      this.replyMicro = (microseconds(init.nowMs) - init.syn.timestamp) >>> 0
      this.sendAck(init.nowMs)
    } else {
      this.state = 'syn-sent'
      this.sendControl(ST_SYN, init.nowMs)
    }
  }

  /** Resolves once the SYN is acked; rejects on RESET or when destroyed first. */
  connected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.connectResolve = resolve
      this.connectReject = reject
    })
  }

  /** Gives up on connecting (the socket's timer or an abort): fails the stream with `error`. */
  abortConnect(error: Error): void {
    if (this.state === 'syn-sent') this.destroy(error)
  }

  connectTimedOut(timeoutMs: number): void {
    this.abortConnect(new UtpConnectTimeoutError(this.remoteAddress, this.remotePort, timeoutMs))
  }

  stats(): UtpConnectionStats {
    return {
      rttMs: this.rtt.srtt,
      rtoMs: retransmitTimeout(this.rtt, this.timeouts, this.options.minRtoMs),
      congestionWindow: Math.round(this.ledbat.cwnd),
      queuingDelayUs: this.queuingDelayUs,
      bytesInFlight: this.bytesInFlight,
      peerWindow: this.peerWindow,
      receiveBuffered: this.readableLength + this.inBytes,
      sendQueued: this.sendQueued,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      retransmits: this.retransmits,
      timeouts: this.totalTimeouts,
    }
  }

  // --- incoming ---

  handlePacket(p: Packet, datagram: Buffer, nowMs: number): void {
    if (this.state === 'closed') {
      // Lingering after a clean close: re-ack a retransmitted FIN, nothing else.
      if (p.type === ST_FIN) this.sendAck(nowMs)
      return
    }
    if (p.type === ST_RESET) {
      this.destroy(
        this.state === 'syn-sent'
          ? new UtpConnectionRefusedError(this.remoteAddress, this.remotePort)
          : new UtpConnectionResetError(this.remoteAddress, this.remotePort),
      )
      return
    }
    const lastSent = seqAdd(this.seqNr, -1)
    if (this.state === 'syn-sent') {
      if ((p.type !== ST_STATE && p.type !== ST_DATA) || p.ack !== lastSent) return
      this.state = 'connected'
      // The acceptor's first data packet carries the seq_nr of its STATE.
      this.ackNr = seqAdd(p.seq, -1)
      this.inHighest = this.ackNr
      this.connectResolve?.()
      this.connectResolve = undefined
      this.connectReject = undefined
      this.emit('connect')
    } else if (p.type === ST_SYN) {
      // Our STATE was lost and the initiator resent its SYN.
      if (p.seq === this.ackNr) this.sendAck(nowMs)
      return
    }
    // An ack of something we never sent, or older than the duplicate-ack horizon: not for us.
    if (seqLess(lastSent, p.ack) || seqLess(p.ack, seqAdd(this.lastAcked, -DUPLICATE_ACK_LIMIT - 1))) return
    this.packetsReceived++
    this.lastReceivedAt = nowMs
    this.replyMicro = (microseconds(nowMs) - p.timestamp) >>> 0
    this.peerWindow = p.windowSize

    const inFlightBefore = this.bytesInFlight
    const outBefore = this.outCount
    let acked = 0
    let minRtt = Number.POSITIVE_INFINITY
    const payloadLength = datagram.length - p.payloadOffset
    if (seqLess(this.lastAcked, p.ack)) {
      for (let s = seqAdd(this.lastAcked, 1); ; s = seqAdd(s, 1)) {
        const rtt = this.ackPacket(s, nowMs)
        if (rtt >= 0) {
          acked += this.lastAckedPayload
          if (rtt < minRtt) minRtt = rtt
        }
        if (s === p.ack) break
      }
      this.lastAcked = p.ack
      this.dupAcks = 0
    } else if (p.ack === this.lastAcked && p.type === ST_STATE && this.outCount > 0) {
      this.dupAcks++
    }
    let lost = -1
    if (p.sackLength > 0) {
      const mask = datagram
      const bits = p.sackLength * 8
      for (let i = 0; i < bits; i++) {
        if (!sackBit(mask, p.sackOffset, p.sackLength, i)) continue
        const rtt = this.ackPacket(seqAdd(p.ack, 2 + i), nowMs)
        if (rtt >= 0) {
          acked += this.lastAckedPayload
          if (rtt < minRtt) minRtt = rtt
        }
      }
      lost = this.resendSackHoles(p, datagram, nowMs)
    }
    if (this.dupAcks >= DUPLICATE_ACK_LIMIT) {
      const first = seqAdd(this.lastAcked, 1)
      const packet = this.outbuf[first & RING_MASK]
      if (packet && packet.seq === first && !packet.fastResent) {
        packet.fastResent = true
        this.resend(packet, nowMs)
        if (lost < 0 || seqLess(first, lost)) lost = first
      }
    }
    // Losses come in bursts: cut the window once per window of packets. (libtorrent also waits 100 ms
    // between cuts; on a short-RTT tail-drop bottleneck that overshoots the queue and collapses into
    // timeouts, measured in shaped.test.ts, so we do not.)
    if (lost >= 0 && seqLess(this.lossSeq, lost)) {
      ledbatOnLoss(this.ledbat, this.ledbatInit)
      this.lossSeq = lastSent
    }
    if (p.timestampDiff !== 0 && p.timestampDiff !== 0x7fffffff) {
      let delay = addDelaySample(this.delays, p.timestampDiff, nowMs)
      this.queuingDelayUs = delay
      if (acked > 0 && inFlightBefore > 0) {
        // The one-way queuing delay cannot exceed the round trip (libtorrent clamps it the same way).
        if (minRtt !== Number.POSITIVE_INFINITY && delay > minRtt * 1000) delay = minRtt * 1000
        const saturated = this.cwndLimited || inFlightBefore + this.options.packetSize > this.ledbat.cwnd
        ledbatOnAck(this.ledbat, this.ledbatInit, acked, delay, inFlightBefore, saturated)
        this.cwndLimited = false
      }
    }
    if (this.outCount < outBefore) {
      this.timeouts = 0
      this.rtoDeadline = this.outCount > 0 ? nowMs + retransmitTimeout(this.rtt, 0, this.options.minRtoMs) : 0
    }

    if (p.type === ST_DATA && payloadLength > 0) this.receiveData(p.seq, datagram, p.payloadOffset)
    else if (p.type === ST_FIN) this.receiveFin(p.seq, nowMs)

    if (this.finSeq >= 0 && !this.finAcked && !seqLess(this.lastAcked, this.finSeq)) {
      this.finAcked = true
      const callback = this.finalCallback
      this.finalCallback = undefined
      callback?.()
      this.maybeClose()
    }
    this.flush(nowMs)
  }

  /**
   * Removes packet `seq` if outstanding; returns its RTT sample in ms, +Infinity when it was resent
   * (no sample, and no say in the delay clamp), or -1 if it was not outstanding.
   */
  private ackPacket(seq: number, nowMs: number): number {
    const slot = seq & RING_MASK
    const packet = this.outbuf[slot]
    if (!packet || packet.seq !== seq) return -1
    this.outbuf[slot] = undefined
    this.outCount--
    if (packet.inFlight) this.bytesInFlight -= packet.payload
    if (packet.needsResend) this.resendPending--
    this.lastAckedPayload = packet.payload
    let rtt = Number.POSITIVE_INFINITY
    // Karn: only packets sent once give an unambiguous sample.
    if (packet.transmissions === 1) {
      rtt = Math.max(0, nowMs - packet.sentAt)
      addRttSample(this.rtt, rtt)
    }
    this.releasePacket(packet)
    return rtt
  }

  /** Fast retransmit on SACK evidence: a hole with at least 3 acked packets after it. */
  private resendSackHoles(p: Packet, datagram: Buffer, nowMs: number): number {
    let after = 0
    let lost = -1
    for (let i = p.sackLength * 8 - 1; i >= -1; i--) {
      if (i >= 0 && sackBit(datagram, p.sackOffset, p.sackLength, i)) {
        after++
        continue
      }
      if (after < DUPLICATE_ACK_LIMIT) continue
      const seq = seqAdd(p.ack, 2 + i)
      const packet = this.outbuf[seq & RING_MASK]
      if (!packet || packet.seq !== seq || packet.fastResent) continue
      packet.fastResent = true
      this.resend(packet, nowMs)
      lost = seq
    }
    return lost
  }

  private receiveData(seq: number, datagram: Buffer, offset: number): void {
    this.ackPending = true
    this.host.deferAck(this)
    if (this.readEnded) return
    if (this.peerFinSeq >= 0 && !seqLess(seq, this.peerFinSeq)) return
    const distance = seqDistance(seq, this.ackNr)
    if (distance === 0 || distance >= 0x8000) return // a duplicate of something delivered
    const payload = datagram.subarray(offset)
    const buffered = this.readableLength + this.inBytes
    // A peer that ignores our window gets its excess dropped (it will resend): memory stays bounded.
    if (buffered + payload.length > this.options.receiveWindow + 16 * this.options.packetSize) return
    if (distance === 1) {
      this.ackNr = seq
      this.bytesReceived += payload.length
      this.push(payload)
      this.drainReorder()
      return
    }
    if (distance >= RING) return
    const slot = seq & RING_MASK
    this.inbuf ??= new Array(RING)
    if (this.inbuf[slot] !== undefined) return
    this.inbuf[slot] = payload
    this.inCount++
    this.inBytes += payload.length
    if (seqLess(this.inHighest, seq)) this.inHighest = seq
  }

  private drainReorder(): void {
    while (this.inCount > 0) {
      const next = seqAdd(this.ackNr, 1)
      const slot = next & RING_MASK
      const payload = this.inbuf![slot]
      if (payload === undefined) break
      this.inbuf![slot] = undefined
      this.inCount--
      this.inBytes -= payload.length
      this.ackNr = next
      this.bytesReceived += payload.length
      this.push(payload)
    }
    if (this.inCount === 0) this.inHighest = this.ackNr
    this.maybeEndRead()
  }

  private receiveFin(seq: number, nowMs: number): void {
    if (this.peerFinSeq < 0) this.peerFinSeq = seq
    this.maybeEndRead()
    // Ack a FIN at once, not with the batch: the application may close the socket on 'end'.
    this.sendAck(nowMs)
  }

  private maybeEndRead(): void {
    if (this.peerFinSeq < 0 || this.readEnded) return
    if (seqAdd(this.ackNr, 1) !== this.peerFinSeq) return
    this.ackNr = this.peerFinSeq
    this.readEnded = true
    this.push(null)
    this.maybeClose()
  }

  // --- outgoing ---

  /** The receive window we advertise: what is left of ours after unread bytes. */
  private advertisedWindow(): number {
    const free = this.options.receiveWindow - this.readableLength - this.inBytes
    return Math.max(free, 0)
  }

  /** Sends the deferred ack of this batch, unless a data packet already carried it. */
  flushAck(nowMs: number): void {
    if (this.ackPending && this.state !== 'syn-sent') this.sendAck(nowMs)
  }

  private sendAck(nowMs: number): void {
    this.ackPending = false
    const sackBits = this.inCount > 0 ? seqDistance(this.inHighest, this.ackNr) - 1 : 0
    const datagram = Buffer.allocUnsafe(HEADER_SIZE + (sackBits > 0 ? 2 + MAX_SACK_BYTES : 0))
    let length = HEADER_SIZE
    let extension = EXTENSION_NONE
    if (sackBits > 0) {
      const inbuf = this.inbuf!
      const sackLength = writeSack(datagram, HEADER_SIZE + 2, this.ackNr, sackBits, (seq) => {
        return inbuf[seq & RING_MASK] !== undefined
      })
      datagram[HEADER_SIZE] = EXTENSION_NONE
      datagram[HEADER_SIZE + 1] = sackLength
      extension = EXTENSION_SACK
      length += 2 + sackLength
    }
    const window = this.advertisedWindow()
    this.lastAdvertised = window
    writeHeader(
      datagram,
      0,
      ST_STATE,
      extension,
      this.sendId,
      microseconds(nowMs),
      this.replyMicro,
      window,
      this.seqNr,
      this.ackNr,
    )
    this.transmit(datagram, length, nowMs)
  }

  /** SYN or FIN: a packet that takes a sequence number and is resent until acked. */
  private sendControl(type: PacketType, nowMs: number): void {
    const packet = this.takePacket()
    const seq = this.seqNr
    // BEP 29: the SYN carries our receive id; everything after carries the send id.
    const id = type === ST_SYN ? this.recvId : this.sendId
    writeHeader(
      packet.buf,
      0,
      type,
      EXTENSION_NONE,
      id,
      microseconds(nowMs),
      this.replyMicro,
      this.advertisedWindow(),
      seq,
      this.ackNr,
    )
    packet.length = HEADER_SIZE
    packet.payload = 0
    this.store(packet, seq, nowMs)
    if (type === ST_FIN) this.finSeq = seq
  }

  private store(packet: OutPacket, seq: number, nowMs: number): void {
    packet.seq = seq
    packet.transmissions = 1
    packet.sentAt = nowMs
    packet.inFlight = true
    packet.needsResend = false
    packet.fastResent = false
    this.outbuf[seq & RING_MASK] = packet
    this.outCount++
    this.bytesInFlight += packet.payload
    this.seqNr = seqAdd(seq, 1)
    if (this.rtoDeadline === 0) {
      this.rtoDeadline = nowMs + retransmitTimeout(this.rtt, this.timeouts, this.options.minRtoMs)
    }
    this.transmitPacket(packet, nowMs)
  }

  private resend(packet: OutPacket, nowMs: number): void {
    refreshHeader(packet.buf, microseconds(nowMs), this.replyMicro, this.advertisedWindow(), this.ackNr)
    packet.transmissions++
    packet.sentAt = nowMs
    if (packet.needsResend) {
      packet.needsResend = false
      this.resendPending--
    }
    if (!packet.inFlight) {
      packet.inFlight = true
      this.bytesInFlight += packet.payload
    }
    this.retransmits++
    this.transmitPacket(packet, nowMs)
  }

  private transmitPacket(packet: OutPacket, nowMs: number): void {
    packet.sending++
    this.transmit(packet.buf, packet.length, nowMs, packet.onSent)
  }

  private transmit(datagram: Buffer, length: number, nowMs: number, onSent?: () => void): void {
    this.packetsSent++
    this.lastSentAt = nowMs
    this.host.sendPacket(datagram, length, this.remotePort, this.remoteAddress, onSent)
  }

  private takePacket(): OutPacket {
    const reused = this.freePackets.pop()
    if (reused) {
      reused.recycle = false
      return reused
    }
    const packet: OutPacket = {
      buf: Buffer.allocUnsafe(HEADER_SIZE + this.options.packetSize),
      length: 0,
      payload: 0,
      seq: 0,
      sentAt: 0,
      transmissions: 0,
      inFlight: false,
      needsResend: false,
      fastResent: false,
      sending: 0,
      recycle: false,
      onSent: () => {
        packet.sending--
        if (packet.sending === 0 && packet.recycle) this.recyclePacket(packet)
      },
    }
    return packet
  }

  private releasePacket(packet: OutPacket): void {
    // A buffer still queued in the OS must not be overwritten by the next packet.
    if (packet.sending > 0) packet.recycle = true
    else this.recyclePacket(packet)
  }

  private recyclePacket(packet: OutPacket): void {
    packet.recycle = false
    if (this.freePackets.length < 256 && this.state !== 'closed') this.freePackets.push(packet)
  }

  /**
   * Sends what the windows allow: resends first, then new data, then our FIN. Releasing the writer may
   * hand us its next batch at once (Node calls `_writev` from inside the callback), so loop.
   */
  private flush(nowMs: number): void {
    if (this.state !== 'connected') return
    do this.sendWhatFits(nowMs)
    while (this.releaseWriter() && this.state === 'connected')
  }

  private sendWhatFits(nowMs: number): void {
    const window = Math.min(this.ledbat.cwnd, this.peerWindow)
    if (this.resendPending > 0) {
      for (let s = seqAdd(this.lastAcked, 1); s !== this.seqNr && this.resendPending > 0; s = seqAdd(s, 1)) {
        const packet = this.outbuf[s & RING_MASK]
        if (!packet || packet.seq !== s || !packet.needsResend) continue
        if (this.bytesInFlight > 0 && this.bytesInFlight + packet.payload > window) {
          this.cwndLimited = true
          break
        }
        this.resend(packet, nowMs)
      }
    }
    const mss = this.options.packetSize
    while (this.sendQueued > 0 && this.resendPending === 0) {
      if (this.outCount >= RING - 1) break
      const size = Math.min(this.sendQueued, mss)
      // Nagle: a partial packet waits until nothing is in flight (or we are closing).
      if (size < mss && this.outCount > 0 && !this.ending) break
      if (this.bytesInFlight + size > window) {
        if (this.bytesInFlight > 0 || this.peerWindow === 0) {
          if (this.ledbat.cwnd <= this.peerWindow) this.cwndLimited = true
          if (this.peerWindow === 0 && this.rtoDeadline === 0) {
            // Zero-window probe: when the timer fires with nothing in flight we send one packet anyway.
            this.rtoDeadline = nowMs + retransmitTimeout(this.rtt, 0, this.options.minRtoMs)
          }
          break
        }
      }
      this.sendData(size, nowMs)
    }
    if (this.ending && this.sendQueued === 0 && this.finSeq < 0 && this.outCount < RING - 1) {
      this.sendControl(ST_FIN, nowMs)
    }
  }

  private sendData(size: number, nowMs: number): void {
    const packet = this.takePacket()
    const buf = packet.buf
    let written = HEADER_SIZE
    let left = size
    while (left > 0) {
      const chunk = this.sendQueue[this.sendHead]!
      const available = chunk.length - this.sendHeadOffset
      const take = Math.min(available, left)
      chunk.copy(buf, written, this.sendHeadOffset, this.sendHeadOffset + take)
      written += take
      left -= take
      if (take === available) {
        this.sendQueue[this.sendHead] = undefined as unknown as Buffer
        this.sendHead++
        this.sendHeadOffset = 0
      } else {
        this.sendHeadOffset += take
      }
    }
    if (this.sendHead === this.sendQueue.length) {
      this.sendQueue.length = 0
      this.sendHead = 0
    } else if (this.sendHead > 1024) {
      this.sendQueue.splice(0, this.sendHead)
      this.sendHead = 0
    }
    this.sendQueued -= size
    this.bytesSent += size
    packet.length = written
    packet.payload = size
    const window = this.advertisedWindow()
    this.lastAdvertised = window
    writeHeader(
      buf,
      0,
      ST_DATA,
      EXTENSION_NONE,
      this.sendId,
      microseconds(nowMs),
      this.replyMicro,
      window,
      this.seqNr,
      this.ackNr,
    )
    // The data packet carries our ack; a separate STATE is only needed to describe a reorder gap.
    if (this.inCount === 0) this.ackPending = false
    this.store(packet, this.seqNr, nowMs)
  }

  /**
   * Calls the pending write callback once its data is in packets, TCP-like: the writer may reuse its
   * buffers afterwards (peer-wire and piece stores recycle theirs). Less than a packet may remain,
   * held back by Nagle; that tail is copied so the writer's buffer is free. True if the callback
   * queued more data.
   */
  private releaseWriter(): boolean {
    const callback = this.writeCallback
    if (!callback || this.sendQueued >= this.options.packetSize) return false
    if (this.sendQueued > 0) this.copyTail()
    this.writeCallback = undefined
    const before = this.sendQueued
    callback()
    return this.sendQueued > before
  }

  /** Replaces the queued chunks (together under one packet) by a copy of their bytes. */
  private copyTail(): void {
    const tail = Buffer.allocUnsafe(this.sendQueued)
    let at = 0
    for (let i = this.sendHead; i < this.sendQueue.length; i++) {
      const chunk = this.sendQueue[i]!
      const from = i === this.sendHead ? this.sendHeadOffset : 0
      chunk.copy(tail, at, from)
      at += chunk.length - from
    }
    this.sendQueue.length = 0
    this.sendQueue.push(tail)
    this.sendHead = 0
    this.sendHeadOffset = 0
  }

  // --- timers (driven by the socket) ---

  tick(nowMs: number): void {
    if (this.state === 'closed') return
    if (nowMs - this.lastReceivedAt > this.options.idleTimeoutMs) {
      this.destroy(new UtpTimeoutError(this.remoteAddress, this.remotePort, 'idle'))
      return
    }
    if (this.rtoDeadline !== 0 && nowMs >= this.rtoDeadline) this.onTimeout(nowMs)
    if (this.state !== 'connected') return
    if (
      this.lastAdvertised < 2 * this.options.packetSize &&
      this.advertisedWindow() >= 2 * this.options.packetSize
    ) {
      this.sendAck(nowMs)
    } else if (nowMs - this.lastSentAt > Math.min(KEEPALIVE_MS, this.options.idleTimeoutMs / 4)) {
      this.sendAck(nowMs)
    }
  }

  private onTimeout(nowMs: number): void {
    if (this.outCount === 0) {
      this.rtoDeadline = 0
      if (this.sendQueued > 0 && this.peerWindow < this.options.packetSize) {
        // Zero-window probe: pretend one packet fits; its ack brings the current window.
        this.peerWindow = this.options.packetSize
        this.flush(nowMs)
      }
      return
    }
    this.timeouts++
    this.totalTimeouts++
    if (this.timeouts > this.options.maxTimeouts) {
      if (this.state === 'syn-sent') return // the socket's connect timer reports this one
      this.destroy(new UtpTimeoutError(this.remoteAddress, this.remotePort, 'retransmissions'))
      return
    }
    ledbatOnTimeout(this.ledbat, this.ledbatInit)
    this.dupAcks = 0
    // Everything outstanding is presumed lost; flush resends it oldest first as the window reopens.
    for (let s = seqAdd(this.lastAcked, 1); s !== this.seqNr; s = seqAdd(s, 1)) {
      const packet = this.outbuf[s & RING_MASK]
      if (!packet || packet.seq !== s) continue
      if (packet.inFlight) {
        packet.inFlight = false
        this.bytesInFlight -= packet.payload
      }
      if (!packet.needsResend) {
        packet.needsResend = true
        this.resendPending++
      }
      packet.fastResent = false
    }
    this.rtoDeadline = nowMs + retransmitTimeout(this.rtt, this.timeouts, this.options.minRtoMs)
    if (this.state === 'syn-sent') {
      const syn = this.outbuf[seqAdd(this.lastAcked, 1) & RING_MASK]
      if (syn) this.resend(syn, nowMs)
      return
    }
    const first = this.outbuf[seqAdd(this.lastAcked, 1) & RING_MASK]
    if (first?.needsResend) this.resend(first, nowMs)
    this.flush(nowMs)
  }

  // --- Duplex ---

  override _read(): void {
    if (this.state !== 'connected') return
    if (
      this.lastAdvertised < 2 * this.options.packetSize &&
      this.advertisedWindow() >= 2 * this.options.packetSize
    ) {
      this.sendAck(performance.now())
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.enqueue(chunk)
    this.afterEnqueue(callback)
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    for (const { chunk } of chunks) this.enqueue(chunk)
    this.afterEnqueue(callback)
  }

  private enqueue(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.sendQueue.push(chunk)
    this.sendQueued += chunk.length
  }

  private flushScheduled = false
  private readonly scheduledFlush = () => {
    this.flushScheduled = false
    this.flush(performance.now())
  }

  private afterEnqueue(callback: (error?: Error | null) => void): void {
    // Coalesce the writes of one tick into full packets before sending.
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.scheduledFlush)
    }
    this.writeCallback = callback
  }

  override _final(callback: (error?: Error | null) => void): void {
    const finish = () => {
      this.ending = true
      this.finalCallback = callback
      this.flush(performance.now())
    }
    if (this.state === 'syn-sent') this.once('connect', finish)
    else finish()
  }

  /** Both directions closed cleanly: linger a little for retransmitted FINs, then forget us. */
  private maybeClose(): void {
    if (!this.readEnded || !this.finAcked || this.state === 'closed') return
    this.state = 'closed'
    this.host.remove(this, LINGER_MS)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const wasOpen = this.state !== 'closed'
    if (this.state === 'connected' && !(this.readEnded && this.finAcked)) {
      // An abortive close: tell the peer at once rather than leave it retransmitting into silence.
      this.sendReset(performance.now())
    }
    this.state = 'closed'
    this.connectReject?.(error ?? new UtpConnectionResetError(this.remoteAddress, this.remotePort))
    this.connectResolve = undefined
    this.connectReject = undefined
    const writer = this.writeCallback ?? this.finalCallback
    this.writeCallback = undefined
    this.finalCallback = undefined
    // A 'data' or 'end' listener may destroy us in the middle of handling a packet: leave nothing
    // for the rest of that handler to walk.
    this.outbuf.fill(undefined)
    this.outCount = 0
    this.bytesInFlight = 0
    this.resendPending = 0
    this.inbuf = undefined
    this.inCount = 0
    this.inBytes = 0
    this.sendQueue.length = 0
    this.sendQueued = 0
    this.freePackets.length = 0
    if (wasOpen) this.host.remove(this, 0)
    writer?.(error ?? undefined)
    callback(error)
  }

  private sendReset(nowMs: number): void {
    const datagram = Buffer.allocUnsafe(HEADER_SIZE)
    writeHeader(
      datagram,
      0,
      ST_RESET,
      EXTENSION_NONE,
      this.sendId,
      microseconds(nowMs),
      this.replyMicro,
      0,
      this.seqNr,
      this.ackNr,
    )
    this.transmit(datagram, HEADER_SIZE, nowMs)
  }
}
