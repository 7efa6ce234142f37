// The connection after an RC4 crypto_select: a Duplex that decrypts what the socket delivers and
// encrypts what is written, with the socket's backpressure passed through both ways (a full socket
// holds our write callbacks; a consumer that stops reading pauses the socket).
import { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import type { Rc4 } from './rc4.js'

export interface EncryptedStreamInit {
  socket: Duplex
  /** Keystream of the bytes we receive. */
  decrypt: Rc4
  /** Keystream of the bytes we send. */
  encrypt: Rc4
  /** Plaintext the handshake already decrypted (the initiator's initial payload), delivered first. */
  head?: Uint8Array
  /** Ciphertext read past the handshake, delivered (decrypted) after `head`. */
  rest?: Buffer
}

export class EncryptedStream extends Duplex {
  private readonly socket: Duplex
  private readonly decrypt: Rc4
  private readonly encrypt: Rc4
  /** The write callback held until the socket drains. */
  private pendingCallback: ((error?: Error | null) => void) | undefined
  private ended = false
  /**
   * A TCP socket's chunks are fresh buffers nobody else holds, so they are decrypted in place; another
   * Duplex may hand out buffers its writer still owns, so those are copied first.
   */
  private readonly ownsChunks: boolean

  constructor(init: EncryptedStreamInit) {
    super({ allowHalfOpen: false })
    this.socket = init.socket
    this.decrypt = init.decrypt
    this.encrypt = init.encrypt
    this.ownsChunks = init.socket instanceof Socket
    if (init.head !== undefined && init.head.length > 0) this.push(Buffer.from(init.head))
    if (init.rest !== undefined && init.rest.length > 0) {
      const rest = this.owned(init.rest)
      this.decrypt.update(rest)
      this.push(rest)
    }
    const socket = this.socket
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
    if (socket.destroyed) this.onClose()
    else socket.resume()
  }

  override _read(): void {
    if (!this.ended) this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // A copy: callers may reuse their buffer once the callback ran (peer-wire's piece blocks do).
    const out = Buffer.allocUnsafe(chunk.length)
    out.set(chunk)
    this.send(out, callback)
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    let total = 0
    for (const { chunk } of chunks) total += chunk.length
    const out = Buffer.allocUnsafe(total)
    let at = 0
    for (const { chunk } of chunks) {
      out.set(chunk, at)
      at += chunk.length
    }
    this.send(out, callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const socket = this.socket
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('close', this.onClose)
    socket.off('drain', this.onDrain)
    // Errors the socket still reports after this are ours to ignore, not to crash on.
    socket.off('error', this.onError)
    socket.on('error', () => {})
    socket.destroy()
    const pending = this.pendingCallback
    this.pendingCallback = undefined
    pending?.(error ?? new Error('mse: the stream was destroyed'))
    callback(error)
  }

  private send(ciphertext: Buffer, callback: (error?: Error | null) => void): void {
    this.encrypt.update(ciphertext)
    if (this.socket.write(ciphertext)) callback()
    else this.pendingCallback = callback
  }

  private owned(chunk: Buffer): Buffer {
    return this.ownsChunks ? chunk : Buffer.from(chunk)
  }

  private readonly onData = (received: Buffer) => {
    const chunk = this.owned(received)
    this.decrypt.update(chunk)
    if (!this.push(chunk)) this.socket.pause()
  }

  private readonly onDrain = () => {
    const pending = this.pendingCallback
    this.pendingCallback = undefined
    pending?.()
  }

  private readonly onEnd = () => {
    this.ended = true
    this.push(null)
  }

  private readonly onError = (error: Error) => {
    this.destroy(error)
  }

  private readonly onClose = () => {
    // After a clean end the consumer still reads what is buffered; anything else ends the stream now.
    if (!this.ended) this.destroy()
  }
}
