// Outstanding queries, matched by (remote address, transaction id): an answer from any other address is
// not an answer. Each query has a hard timeout; the table of pending queries is bounded.
import { DhtClosedError, DhtQueryTimeoutError } from './errors.js'
import type { KrpcMessage } from './krpc.js'

type Answer = Extract<KrpcMessage, { y: 'r' | 'e' }>

interface Pending {
  resolve(answer: Answer): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout>
}

export interface Transactions {
  /** A fresh transaction id for `host:port`, or undefined when `maxPending` queries are outstanding. */
  open(
    host: string,
    port: number,
    method: string,
    timeoutMs: number,
  ): { t: Uint8Array; answer: Promise<Answer> } | undefined
  /** Settles the query this answer belongs to; false when it matches none (late, spoofed or unasked). */
  settle(host: string, port: number, answer: Answer): boolean
  /** Fails a query right away (its send failed). */
  fail(host: string, port: number, t: Uint8Array, error: Error): void
  closeAll(): void
  readonly size: number
}

export function createTransactions(init: { maxPending?: number } = {}): Transactions {
  const maxPending = init.maxPending ?? 2048
  const pending = new Map<string, Pending>()
  let counter = Math.floor(Math.random() * 0x10000)
  const keyOf = (host: string, port: number, t: Uint8Array) => {
    let key = `${host}|${port}|`
    for (const byte of t) key += String.fromCharCode(byte)
    return key
  }
  const take = (key: string) => {
    const entry = pending.get(key)
    if (!entry) return undefined
    pending.delete(key)
    clearTimeout(entry.timer)
    return entry
  }
  return {
    open(host, port, method, timeoutMs) {
      if (pending.size >= maxPending) return undefined
      let t: Uint8Array
      let key: string
      do {
        counter = (counter + 1) & 0xffff
        t = Uint8Array.of(counter >> 8, counter & 0xff)
        key = keyOf(host, port, t)
      } while (pending.has(key))
      const answer = new Promise<Answer>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (take(key)) reject(new DhtQueryTimeoutError(method, `${host}:${port}`, 'timeout'))
        }, timeoutMs)
        pending.set(key, { resolve, reject, timer })
      })
      return { t, answer }
    },
    settle(host, port, answer) {
      const entry = take(keyOf(host, port, answer.t))
      if (!entry) return false
      entry.resolve(answer)
      return true
    },
    fail(host, port, t, error) {
      take(keyOf(host, port, t))?.reject(error)
    },
    closeAll() {
      for (const key of [...pending.keys()]) take(key)?.reject(new DhtClosedError())
    },
    get size() {
      return pending.size
    },
  }
}
