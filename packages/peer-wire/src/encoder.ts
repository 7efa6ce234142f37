// Writes peer messages into caller-provided buffers, so a batch of messages (a burst of requests) can be
// built in one buffer and sent with one write.
import { MessageId, type WireMessage } from './messages.js'

/** Bytes `message` takes on the wire, length prefix included. */
export function encodedLength(message: WireMessage): number {
  switch (message.type) {
    case 'keep-alive':
      return 4
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'not-interested':
    case 'have-all':
    case 'have-none':
      return 5
    case 'have':
    case 'suggest':
    case 'allowed-fast':
      return 9
    case 'request':
    case 'cancel':
    case 'reject':
      return 17
    case 'port':
      return 7
    case 'bitfield':
      return 5 + message.bitfield.length
    case 'piece':
      return 13 + message.block.length
    case 'extended':
      return 6 + message.payload.length
  }
}

/**
 * Writes `message` at `offset` (which must have `encodedLength(message)` bytes free) and returns the
 * offset after it. Throws `RangeError` for fields that do not fit their wire size.
 */
export function encodeMessageInto(message: WireMessage, target: Uint8Array, offset: number): number {
  switch (message.type) {
    case 'keep-alive':
      return writeUint32(target, offset, 0)
    case 'choke':
      return simple(target, offset, MessageId.choke)
    case 'unchoke':
      return simple(target, offset, MessageId.unchoke)
    case 'interested':
      return simple(target, offset, MessageId.interested)
    case 'not-interested':
      return simple(target, offset, MessageId.notInterested)
    case 'have-all':
      return simple(target, offset, MessageId.haveAll)
    case 'have-none':
      return simple(target, offset, MessageId.haveNone)
    case 'have':
      return indexMessage(target, offset, MessageId.have, message.index)
    case 'suggest':
      return indexMessage(target, offset, MessageId.suggest, message.index)
    case 'allowed-fast':
      return indexMessage(target, offset, MessageId.allowedFast, message.index)
    case 'request':
      return blockMessage(target, offset, MessageId.request, message.index, message.begin, message.length)
    case 'cancel':
      return blockMessage(target, offset, MessageId.cancel, message.index, message.begin, message.length)
    case 'reject':
      return blockMessage(target, offset, MessageId.reject, message.index, message.begin, message.length)
    case 'port': {
      const port = uint(message.port, 0xffff, 'port')
      let at = writeUint32(target, offset, 3)
      target[at++] = MessageId.port
      target[at++] = port >>> 8
      target[at++] = port & 0xff
      return at
    }
    case 'bitfield':
      return payloadMessage(target, offset, MessageId.bitfield, message.bitfield)
    case 'piece': {
      const at = pieceHeaderInto(target, offset, message.index, message.begin, message.block.length)
      target.set(message.block, at)
      return at + message.block.length
    }
    case 'extended': {
      const id = uint(message.id, 0xff, 'extended message id')
      let at = writeUint32(target, offset, 2 + message.payload.length)
      target[at++] = MessageId.extended
      target[at++] = id
      target.set(message.payload, at)
      return at + message.payload.length
    }
  }
}

/** One message in a buffer of its own. */
export function encodeMessage(message: WireMessage): Uint8Array {
  const bytes = new Uint8Array(encodedLength(message))
  encodeMessageInto(message, bytes, 0)
  return bytes
}

/**
 * The 13 bytes before a `piece` message's block, so the block itself can be written without copying it
 * into a message buffer. Returns the offset after the header.
 */
export function pieceHeaderInto(
  target: Uint8Array,
  offset: number,
  index: number,
  begin: number,
  blockLength: number,
): number {
  let at = writeUint32(target, offset, 9 + uint(blockLength, 0xffff_fff6, 'block length'))
  target[at++] = MessageId.piece
  at = writeUint32(target, at, uint(index, 0xffff_ffff, 'index'))
  return writeUint32(target, at, uint(begin, 0xffff_ffff, 'begin'))
}

function simple(target: Uint8Array, offset: number, id: number): number {
  const at = writeUint32(target, offset, 1)
  target[at] = id
  return at + 1
}

function indexMessage(target: Uint8Array, offset: number, id: number, index: number): number {
  let at = writeUint32(target, offset, 5)
  target[at++] = id
  return writeUint32(target, at, uint(index, 0xffff_ffff, 'index'))
}

function blockMessage(
  target: Uint8Array,
  offset: number,
  id: number,
  index: number,
  begin: number,
  length: number,
): number {
  let at = writeUint32(target, offset, 13)
  target[at++] = id
  at = writeUint32(target, at, uint(index, 0xffff_ffff, 'index'))
  at = writeUint32(target, at, uint(begin, 0xffff_ffff, 'begin'))
  return writeUint32(target, at, uint(length, 0xffff_ffff, 'length'))
}

function payloadMessage(target: Uint8Array, offset: number, id: number, payload: Uint8Array): number {
  let at = writeUint32(target, offset, 1 + payload.length)
  target[at++] = id
  target.set(payload, at)
  return at + payload.length
}

function writeUint32(target: Uint8Array, offset: number, value: number): number {
  target[offset] = value >>> 24
  target[offset + 1] = (value >>> 16) & 0xff
  target[offset + 2] = (value >>> 8) & 0xff
  target[offset + 3] = value & 0xff
  return offset + 4
}

function uint(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`peer-wire: ${field} ${value} does not fit its wire field`)
  }
  return value
}
