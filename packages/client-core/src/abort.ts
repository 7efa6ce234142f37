// A per-request AbortSignal that fires on a timeout or when a parent signal aborts. Written out instead
// of AbortSignal.any/timeout, which have leaked listeners in Node on long-lived parents.
import { setMaxListeners } from 'node:events'

export interface RequestScope {
  signal: AbortSignal
  /** Clears the timer and detaches from the parent; call in `finally`. */
  dispose(): void
}

export function requestScope(timeoutMs: number, parent?: AbortSignal): RequestScope {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  )
  const onParentAbort = () => controller.abort(parent?.reason)
  if (parent?.aborted) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    },
  }
}

/**
 * A controller whose signal many operations listen to at once (every dial, handshake and disk write of a
 * torrent): Node's default cap of 10 listeners would print a false leak warning past ten peers.
 */
export function unboundedAbortController(): AbortController {
  const controller = new AbortController()
  setMaxListeners(0, controller.signal)
  return controller
}

/**
 * Runs `stop` when the caller's `signal` aborts (at once, in a microtask, if it already has), and lets
 * go of `signal` once `until` (the owner's own stop) aborts, so a long-lived signal keeps no listener.
 */
export function stopOnAbort(signal: AbortSignal | undefined, until: AbortSignal, stop: () => void): void {
  if (!signal) return
  if (signal.aborted) {
    queueMicrotask(stop)
    return
  }
  signal.addEventListener('abort', stop, { once: true })
  until.addEventListener('abort', () => signal.removeEventListener('abort', stop), { once: true })
}
