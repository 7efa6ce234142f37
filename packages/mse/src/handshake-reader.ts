// Reads the handshake's bytes off a stream in paused mode, asking for exactly as much as each step
// needs: nothing is pulled beyond what the current step may use (plus one read's worth), so a peer that
// floods gains nothing, and what was read past the handshake is handed back intact by `detach`.
import type { Duplex } from 'node:stream'
import { MseClosedError } from './errors.js'

export class HandshakeReader {
  private readonly stream: Duplex
  private chunks: Buffer[] = []
  private buffered = 0
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private rejectWaits: ((error: Error) => void) | undefined
  private readonly failed = new Promise<never>((_, reject) => {
    this.rejectWaits = reject
  })

  constructor(stream: Duplex) {
    this.stream = stream
    // Nobody may be waiting when it fails; that is no unhandled rejection.
    this.failed.catch(() => {})
    stream.on('readable', this.onReadable)
    stream.on('end', this.onEnd)
    stream.on('error', this.onError)
    stream.on('close', this.onClose)
    if (stream.destroyed) this.onClose()
  }

  /** Ends every wait with `error` (a timeout, an abort); later reads throw it too. */
  fail(error: Error): void {
    if (this.failure === undefined) {
      this.failure = error
      this.rejectWaits?.(error)
    }
    this.wakeUp()
  }

  /** `promise` (a torrent lookup), unless the handshake fails first. */
  wait<T>(promise: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure)
    return Promise.race([promise, this.failed])
  }

  /** The next `length` bytes, waiting for them. */
  async read(length: number): Promise<Buffer> {
    while (this.buffered < length) await this.more(length)
    return this.take(length)
  }

  /** The buffered bytes from the current position, at least `length` of them, without consuming them. */
  async peek(length: number): Promise<Buffer> {
    while (this.buffered < length) await this.more(length)
    return this.contiguous()
  }

  /**
   * Skips to just past `marker`, which must end within `window` bytes of the current position; returns
   * how many bytes came before it, or `undefined` if `window` bytes passed without it.
   */
  async skipPast(marker: Uint8Array, window: number): Promise<number | undefined> {
    for (;;) {
      const bytes = this.contiguous()
      const searchable = bytes.subarray(0, Math.min(bytes.length, window))
      const at = searchable.indexOf(marker)
      if (at >= 0) {
        this.take(at + marker.length)
        return at
      }
      if (bytes.length >= window) return undefined
      await this.more(window)
    }
  }

  /** Stops reading and returns the bytes read past the handshake; the stream is left paused. */
  detach(): Buffer {
    const stream = this.stream
    stream.off('readable', this.onReadable)
    stream.off('end', this.onEnd)
    stream.off('error', this.onError)
    stream.off('close', this.onClose)
    const rest = this.contiguous()
    this.chunks = []
    this.buffered = 0
    return rest
  }

  private async more(want: number): Promise<void> {
    if (this.failure) throw this.failure
    if (this.pull(want)) return
    await new Promise<void>((resolve) => {
      this.wake = resolve
    })
    if (this.failure) throw this.failure
  }

  /** Takes what the stream holds until `want` bytes are buffered; true if it got anything. */
  private pull(want: number): boolean {
    let got = false
    while (this.buffered < want) {
      const chunk = this.stream.read() as Buffer | null
      if (chunk === null) break
      this.chunks.push(chunk)
      this.buffered += chunk.length
      got = true
    }
    return got
  }

  private contiguous(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)]
    return this.chunks[0] ?? Buffer.alloc(0)
  }

  private take(length: number): Buffer {
    const bytes = this.contiguous()
    const taken = bytes.subarray(0, length)
    const rest = bytes.subarray(length)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return taken
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private readonly onReadable = () => this.wakeUp()

  private readonly onEnd = () => {
    this.fail(
      new MseClosedError('the peer closed the connection during the handshake', { closedByPeer: true }),
    )
  }

  private readonly onError = (error: Error) => {
    this.fail(new MseClosedError(`socket error during the handshake: ${error.message}`, { cause: error }))
  }

  private readonly onClose = () => {
    this.fail(new MseClosedError('the connection closed during the handshake', { closedByPeer: true }))
  }
}
