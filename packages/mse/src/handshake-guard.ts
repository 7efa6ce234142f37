// What both sides share around their steps: one deadline, the caller's abort signal, and on any failure
// the socket destroyed (a half-done MSE handshake leaves nothing to reuse).
import type { Duplex } from 'node:stream'
import { MseTimeoutError } from './errors.js'
import { HandshakeReader } from './handshake-reader.js'

export interface HandshakeOptions {
  /** Aborts the handshake; the socket is destroyed and the call rejects with the signal's reason. */
  signal?: AbortSignal
  /** From the call to the last handshake byte. Default 10 s. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000

export async function guardHandshake<T>(
  socket: Duplex,
  options: HandshakeOptions,
  steps: (reader: HandshakeReader) => Promise<T>,
): Promise<T> {
  const { signal } = options
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`mse: timeoutMs must be a positive number, got ${timeoutMs}`)
  }
  if (signal?.aborted) {
    socket.destroy()
    throw signal.reason
  }
  const reader = new HandshakeReader(socket)
  const timer = setTimeout(() => reader.fail(new MseTimeoutError(timeoutMs)), timeoutMs)
  const onAbort = () => reader.fail(signal?.reason instanceof Error ? signal.reason : abortError())
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    return await steps(reader)
  } catch (error) {
    reader.detach()
    // The peer may still reset the socket; that must not surface as an unhandled 'error'.
    socket.on('error', () => {})
    socket.destroy()
    throw error
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

function abortError(): Error {
  return new DOMException('the handshake was aborted', 'AbortError')
}
