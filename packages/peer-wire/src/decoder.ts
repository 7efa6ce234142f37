// An incremental decoder of length-prefixed peer messages over a list of received chunks. A message is
// touched only once its length prefix is checked against its id's limit and all its bytes are buffered,
// so a hostile length never makes it allocate or wait for more than the limit.
import { ChunkList } from './chunk-list.js'
import { PeerProtocolError } from './errors.js'
import { checkProtocol, decodeHandshake, HANDSHAKE_LENGTH, type Handshake } from './handshake.js'
import {
  CHOKE,
  HAVE_ALL,
  HAVE_NONE,
  INTERESTED,
  KEEP_ALIVE,
  MessageId,
  NOT_INTERESTED,
  UNCHOKE,
  type WireMessage,
} from './messages.js'

export interface MessageDecoderOptions {
  /**
   * The torrent's piece count, when known: bitfields must then be exactly ⌈count/8⌉ bytes and piece
   * indices below it. Unknown (a magnet before its metadata), bitfields may be up to `MAX_PIECE_COUNT`/8 bytes.
   */
  pieceCount?: number
  /** Largest block accepted in a `piece` message. Default 1 MiB (real peers send 16 KiB). */
  maxBlockLength?: number
  /** Largest BEP 10 extended message payload. Default 1 MiB. */
  maxExtendedLength?: number
}

/** More pieces than any torrent seen in the wild; caps bitfields while the piece count is unknown. */
export const MAX_PIECE_COUNT = 1 << 22
export const DEFAULT_MAX_BLOCK_LENGTH = 1 << 20
export const DEFAULT_MAX_EXTENDED_LENGTH = 1 << 20

/** Bytes of the `piece` message body before its block: id, index, begin. */
const PIECE_HEADER = 9

export class MessageDecoder {
  private readonly chunks = new ChunkList()
  private count: number | undefined
  private readonly maxBlockLength: number
  private readonly maxExtendedLength: number

  constructor(options: MessageDecoderOptions = {}) {
    this.maxBlockLength = positiveInteger('maxBlockLength', options.maxBlockLength, DEFAULT_MAX_BLOCK_LENGTH)
    this.maxExtendedLength = positiveInteger(
      'maxExtendedLength',
      options.maxExtendedLength,
      DEFAULT_MAX_EXTENDED_LENGTH,
    )
    this.pieceCount = options.pieceCount
  }

  get pieceCount(): number | undefined {
    return this.count
  }

  set pieceCount(count: number | undefined) {
    if (count !== undefined && (!Number.isSafeInteger(count) || count < 0 || count > MAX_PIECE_COUNT)) {
      throw new RangeError(`peer-wire: invalid piece count ${count}`)
    }
    this.count = count
  }

  /** Bytes received and not yet decoded. */
  get bufferedLength(): number {
    return this.chunks.length
  }

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk)
  }

  /**
   * The 68-byte handshake, or `undefined` until it is all buffered. Throws `HandshakeError` as soon as
   * the buffered bytes cannot start one.
   */
  nextHandshake(): Handshake | undefined {
    if (this.chunks.length < HANDSHAKE_LENGTH) {
      this.checkHandshakePrefix()
      return undefined
    }
    return decodeHandshake(this.chunks.take(HANDSHAKE_LENGTH))
  }

  /** Throws `HandshakeError` if the buffered bytes cannot start a BitTorrent handshake. */
  checkHandshakePrefix(): void {
    const buffered = this.chunks.length
    if (buffered > 0) checkProtocol(this.chunks.peek(Math.min(buffered, 20)))
  }

  /** The first `count` buffered bytes, without consuming them, or `undefined` if fewer are buffered. */
  peek(count: number): Uint8Array | undefined {
    return this.chunks.length >= count ? this.chunks.peek(count) : undefined
  }

  /**
   * The next complete message, or `undefined` until one is buffered. Throws `PeerProtocolError` for an
   * unknown id or a length that does not fit the id, before waiting for (or allocating) the body.
   */
  next(): WireMessage | undefined {
    const chunks = this.chunks
    if (chunks.length < 4) return undefined
    const length = chunks.peekUint32()
    if (length === 0) {
      chunks.skip(4)
      return KEEP_ALIVE
    }
    if (chunks.length < 5) return undefined
    const id = chunks.peekByte(4)
    this.checkLength(id, length)
    if (chunks.length < 4 + length) return undefined
    chunks.skip(5)
    switch (id) {
      case MessageId.piece: {
        const index = this.index(id, chunks.readUint32())
        const begin = chunks.readUint32()
        return { type: 'piece', index, begin, block: chunks.take(length - PIECE_HEADER) }
      }
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject: {
        const index = this.index(id, chunks.readUint32())
        const begin = chunks.readUint32()
        const blockLength = chunks.readUint32()
        const type = id === MessageId.request ? 'request' : id === MessageId.cancel ? 'cancel' : 'reject'
        return { type, index, begin, length: blockLength }
      }
      case MessageId.have:
        return { type: 'have', index: this.index(id, chunks.readUint32()) }
      case MessageId.choke:
        return CHOKE
      case MessageId.unchoke:
        return UNCHOKE
      case MessageId.interested:
        return INTERESTED
      case MessageId.notInterested:
        return NOT_INTERESTED
      case MessageId.bitfield:
        return { type: 'bitfield', bitfield: chunks.take(length - 1) }
      case MessageId.port:
        return { type: 'port', port: chunks.readUint16() }
      case MessageId.suggest:
        return { type: 'suggest', index: this.index(id, chunks.readUint32()) }
      case MessageId.haveAll:
        return HAVE_ALL
      case MessageId.haveNone:
        return HAVE_NONE
      case MessageId.allowedFast:
        return { type: 'allowed-fast', index: this.index(id, chunks.readUint32()) }
      default: {
        const extendedId = chunks.peekByte(0)
        chunks.skip(1)
        return { type: 'extended', id: extendedId, payload: chunks.take(length - 2) }
      }
    }
  }

  private checkLength(id: number, length: number): void {
    let valid: boolean
    switch (id) {
      case MessageId.choke:
      case MessageId.unchoke:
      case MessageId.interested:
      case MessageId.notInterested:
      case MessageId.haveAll:
      case MessageId.haveNone:
        valid = length === 1
        break
      case MessageId.have:
      case MessageId.suggest:
      case MessageId.allowedFast:
        valid = length === 5
        break
      case MessageId.request:
      case MessageId.cancel:
      case MessageId.reject:
        valid = length === 13
        break
      case MessageId.port:
        valid = length === 3
        break
      case MessageId.piece:
        valid = length >= PIECE_HEADER && length - PIECE_HEADER <= this.maxBlockLength
        break
      case MessageId.bitfield: {
        if (this.count === undefined) {
          valid = length >= 1 && length - 1 <= MAX_PIECE_COUNT / 8
          break
        }
        const expected = Math.ceil(this.count / 8)
        if (length - 1 !== expected) {
          throw new PeerProtocolError(
            'invalid-bitfield',
            id,
            `bitfield of ${length - 1} bytes for ${this.count} pieces (expected ${expected})`,
          )
        }
        return
      }
      case MessageId.extended:
        valid = length >= 2 && length - 2 <= this.maxExtendedLength
        break
      default:
        throw new PeerProtocolError('unknown-message', id, `unknown message id ${id}`)
    }
    if (!valid) {
      throw new PeerProtocolError('invalid-length', id, `message id ${id} with invalid length ${length}`)
    }
  }

  private index(id: number, index: number): number {
    if (this.count !== undefined && index >= this.count) {
      throw new PeerProtocolError(
        'invalid-index',
        id,
        `message id ${id} for piece ${index}, but the torrent has ${this.count} pieces`,
      )
    }
    return index
  }
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`peer-wire: ${name} must be a positive integer, got ${value}`)
  }
  return value
}
