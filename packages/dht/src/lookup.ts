// An iterative Kademlia lookup (BEP 5) as a policy: it decides whom to ask next and when it is done;
// the caller's `query` does the sending. α queries in flight; one unanswered for the soft timeout stops
// counting against α (another is sent meanwhile); the lookup ends once the k closest nodes it knows have
// all answered, or when nobody is left to ask. Each address is asked at most once per lookup.
import type { NodeContact } from './krpc.js'
import { compareDistance } from './node-id.js'

export interface LookupContact {
  /** Unknown for a bootstrap router or a saved node whose id we do not trust yet. */
  id?: Uint8Array
  host: string
  port: number
}

export interface LookupReply {
  id: Uint8Array
  nodes: readonly NodeContact[]
  token?: Uint8Array
}

export interface LookupInit {
  target: Uint8Array
  seeds: readonly LookupContact[]
  /** Sends the query; rejects when it goes unanswered (its hard timeout) or fails. */
  query(contact: LookupContact): Promise<LookupReply>
  /** Nodes whose answers end the lookup. Default 8. */
  k?: number
  /** Queries in flight that have not yet passed the soft timeout. Default 3. */
  alpha?: number
  /** All queries in flight, slow ones included. Default 8. */
  maxInFlight?: number
  /** Default 1000 ms. */
  softTimeoutMs?: number
  /** Queries one lookup may send in all. Default 100. */
  maxQueries?: number
  signal?: AbortSignal
}

export interface LookupStats {
  /** Queries sent. */
  queried: number
  /** Queries answered. */
  answered: number
}

export interface LookupOutcome extends LookupStats {
  /** The k closest nodes that answered, closest first, with the write token each gave (if any). */
  closest: { node: NodeContact; token: Uint8Array | undefined }[]
}

type Status = 'new' | 'flight' | 'slow' | 'answered' | 'failed'

interface Candidate {
  contact: LookupContact
  id: Uint8Array | undefined
  status: Status
  token: Uint8Array | undefined
}

export function runLookup(init: LookupInit): Promise<LookupOutcome> {
  const k = init.k ?? 8
  const alpha = init.alpha ?? 3
  const maxInFlight = init.maxInFlight ?? 8
  const softTimeoutMs = init.softTimeoutMs ?? 1000
  const maxQueries = init.maxQueries ?? 100
  const keep = k * 8
  const { target, signal } = init
  signal?.throwIfAborted()

  const byAddress = new Map<string, Candidate>()
  // Id-less seeds first (they can only be asked), then by distance to the target.
  let sorted: Candidate[] = []
  let queried = 0
  let answered = 0
  let fast = 0
  let inFlight = 0
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const offer = (contact: LookupContact) => {
    const key = `${contact.host}|${contact.port}`
    if (byAddress.has(key)) return
    const candidate: Candidate = { contact, id: contact.id, status: 'new', token: undefined }
    byAddress.set(key, candidate)
    sorted.push(candidate)
  }
  const resort = () => {
    sorted.sort((a, b) => {
      if (!a.id || !b.id) return Number(Boolean(a.id)) - Number(Boolean(b.id))
      return compareDistance(target, a.id, b.id)
    })
    // Forget far candidates nobody asked: they can no longer be among the k closest worth asking.
    if (sorted.length > keep) {
      let kept = 0
      sorted = sorted.filter((candidate) => {
        if (candidate.status !== 'new' || kept < keep) {
          kept++
          return true
        }
        byAddress.delete(`${candidate.contact.host}|${candidate.contact.port}`)
        return false
      })
    }
  }
  for (const seed of init.seeds) offer(seed)
  resort()

  return new Promise<LookupOutcome>((resolve, reject) => {
    let settled = false
    const finish = (error?: unknown) => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      signal?.removeEventListener('abort', onAbort)
      if (error !== undefined) {
        reject(error)
        return
      }
      const closest = sorted
        .filter((candidate) => candidate.status === 'answered' && candidate.id)
        .slice(0, k)
        .map((candidate) => ({
          node: { id: candidate.id!, host: candidate.contact.host, port: candidate.contact.port },
          token: candidate.token,
        }))
      resolve({ closest, queried, answered })
    }
    const onAbort = () => finish(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })

    const done = (): boolean => {
      let answeredClose = 0
      for (const candidate of sorted) {
        if (candidate.status === 'failed') continue
        if (candidate.status !== 'answered') return false
        if (candidate.id && ++answeredClose >= k) return true
      }
      return true
    }
    const send = (candidate: Candidate) => {
      candidate.status = 'flight'
      queried++
      fast++
      inFlight++
      const soft = setTimeout(() => {
        timers.delete(soft)
        if (candidate.status !== 'flight') return
        candidate.status = 'slow'
        fast--
        pump()
      }, softTimeoutMs)
      timers.add(soft)
      const settle = (status: 'answered' | 'failed') => {
        clearTimeout(soft)
        timers.delete(soft)
        if (candidate.status === 'flight') fast--
        inFlight--
        candidate.status = status
      }
      init.query(candidate.contact).then(
        (reply) => {
          if (settled) return
          settle('answered')
          answered++
          candidate.id = reply.id
          candidate.token = reply.token
          for (const node of reply.nodes) offer(node)
          resort()
          pump()
        },
        () => {
          if (settled) return
          settle('failed')
          pump()
        },
      )
    }
    const pump = () => {
      if (settled) return
      if (done()) {
        finish()
        return
      }
      for (const candidate of sorted) {
        if (fast >= alpha || inFlight >= maxInFlight || queried >= maxQueries) break
        if (candidate.status === 'new') send(candidate)
      }
      if (inFlight === 0) finish()
    }
    pump()
  })
}
