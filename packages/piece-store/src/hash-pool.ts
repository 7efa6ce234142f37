// Hashes pieces on worker threads so a recheck uses every core. Buffers are transferred, never copied:
// the caller hands an ArrayBuffer over and gets it back with the digest, so memory stays at the few
// buffers the caller owns. `workers: 0` hashes on the calling thread (cheaper for a handful of pieces).
import { Worker } from 'node:worker_threads'
import { sha1 } from './piece-hash.js'

// The worker is a string evaluated by Node rather than a module file: that runs the same from `src/`
// under tsx or vitest and from the bundled `dist/`, with no path to resolve at runtime.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
parentPort.on('message', (task) => {
  const digest = createHash('sha1').update(new Uint8Array(task.buffer, 0, task.length)).digest()
  parentPort.postMessage({ id: task.id, buffer: task.buffer, digest: new Uint8Array(digest) }, [task.buffer])
})
`

export interface HashResult {
  digest: Uint8Array
  /** The buffer given to `hash`, handed back for reuse. */
  buffer: ArrayBuffer
}

export interface Hasher {
  /** SHA-1 of the first `length` bytes of `buffer`, which is detached until the result comes back. */
  hash(buffer: ArrayBuffer, length: number): Promise<HashResult>
  close(): Promise<void>
}

export function createHasher(workers: number): Hasher {
  return workers > 0 ? new WorkerHasher(workers) : inlineHasher
}

const inlineHasher: Hasher = {
  async hash(buffer, length) {
    return { digest: sha1(new Uint8Array(buffer, 0, length)), buffer }
  },
  async close() {},
}

interface Task {
  resolve(result: HashResult): void
  reject(error: Error): void
}

interface Slot {
  worker: Worker
  tasks: Map<number, Task>
}

interface Reply {
  id: number
  buffer: ArrayBuffer
  digest: Uint8Array
}

class WorkerHasher implements Hasher {
  private readonly slots: Slot[] = []
  private nextId = 0
  private closed = false

  constructor(count: number) {
    for (let index = 0; index < count; index++) {
      const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }), tasks: new Map() }
      slot.worker.on('message', (reply: Reply) => {
        const task = slot.tasks.get(reply.id)
        slot.tasks.delete(reply.id)
        task?.resolve({ digest: reply.digest, buffer: reply.buffer })
      })
      slot.worker.on('error', (error) => this.fail(slot, error))
      slot.worker.on('exit', (code) =>
        this.fail(slot, new Error(`piece-store: hash worker exited (${code})`)),
      )
      this.slots.push(slot)
    }
  }

  hash(buffer: ArrayBuffer, length: number): Promise<HashResult> {
    if (this.closed) return Promise.reject(new Error('piece-store: hash workers are closed'))
    let slot = this.slots[0]!
    for (const candidate of this.slots) if (candidate.tasks.size < slot.tasks.size) slot = candidate
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      slot.tasks.set(id, { resolve, reject })
      slot.worker.postMessage({ id, buffer, length }, [buffer])
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()))
  }

  private fail(slot: Slot, error: Error): void {
    for (const task of slot.tasks.values()) task.reject(error)
    slot.tasks.clear()
    // A dead worker would swallow every later task sent to it.
    this.closed = true
  }
}
