// Keeps a torrent announced to its trackers: BEP 12 tiers (all tiers in parallel by default, as real
// clients do), re-announces on the tracker's interval, `started`/`completed`/`stopped` events, and
// exponential back-off for trackers that fail. A torrent whose trackers all fail says so and keeps trying.
import { EventEmitter } from 'node:events'
import type { PeerAddress } from '@bt/peer-address'
import { requestScope } from './abort.js'
import type { Alert } from './alerts.js'
import { AllTrackersFailedError, type TrackerFailure } from './errors.js'
import { type BackoffOptions, trackerRetryDelayMs } from './tracker-backoff.js'
import { TrackerTiers } from './tracker-tiers.js'
import type {
  AnnounceEvent,
  AnnounceRequest,
  TrackerAnnounce,
  TrackerTransport,
} from './tracker-transport.js'

export interface AnnouncerInit {
  tiers: readonly (readonly string[])[]
  infoHash: Uint8Array
  peerId: Uint8Array
  port: number
  /** Transfer counters, read at every announce. */
  stats: () => { uploaded: number; downloaded: number; left: number }
  transport: TrackerTransport
  /** Announce to every tier at once (default) or only fall through to the next tier on failure (strict BEP 12). */
  announceToAllTiers?: boolean
  /** Per-request limit. Default 30 s. */
  requestTimeoutMs?: number
  /** Lower bound for re-announce intervals whatever the tracker says. Default 30 s. */
  minAnnounceIntervalMs?: number | undefined
  backoff?: BackoffOptions
  numwant?: number
  random?: () => number
}

export interface TrackerStatus {
  url: string
  failures: number
  lastError: Error | undefined
  lastAnnounce: TrackerAnnounce | undefined
  /** `started` reached the tracker, so it gets `stopped` when we leave. */
  started: boolean
}

export interface AnnouncerEvents {
  announce: [TrackerAnnounce]
  peers: [PeerAddress[], string]
  'tracker-error': [TrackerFailure]
  'all-failed': [AllTrackersFailedError]
}

interface TrackerState extends TrackerStatus {
  minIntervalMs: number
  lastAttemptAt: number
}

interface Group {
  tiers: TrackerTiers
  timer: NodeJS.Timeout | undefined
  running: Promise<void> | undefined
  /** An event to carry on the group's next announce (`completed`). */
  pendingEvent: AnnounceEvent | undefined
  failedLastRound: boolean
}

export class Announcer extends EventEmitter<AnnouncerEvents> {
  private readonly init: AnnouncerInit
  private readonly groups: Group[]
  private readonly trackers = new Map<string, TrackerState>()
  private readonly key: number
  private readonly stopController = new AbortController()
  private started = false

  constructor(init: AnnouncerInit) {
    super()
    this.init = init
    const random = init.random ?? Math.random
    const tiers = new TrackerTiers(init.tiers, { shuffle: random })
    this.groups =
      (init.announceToAllTiers ?? true)
        ? tiers.tiers.map((tier) => newGroup([tier]))
        : [newGroup(tiers.tiers)]
    for (const url of tiers.all()) {
      this.trackers.set(url, {
        url,
        failures: 0,
        lastError: undefined,
        lastAnnounce: undefined,
        started: false,
        minIntervalMs: 0,
        lastAttemptAt: 0,
      })
    }
    this.key = Math.floor(random() * 0xffffffff)
  }

  /** Sends `started` to every group now and keeps announcing until `stop()`. */
  start(): void {
    if (this.started || this.stopController.signal.aborted) return
    this.started = true
    if (this.groups.length === 0) {
      queueMicrotask(() => this.emit('all-failed', new AllTrackersFailedError([])))
      return
    }
    for (const group of this.groups) this.run(group)
  }

  /** The download finished: tell the trackers (`completed`) on the next announce, which happens now. */
  completed(): void {
    for (const group of this.groups) {
      group.pendingEvent = 'completed'
      if (this.started) this.run(group)
    }
  }

  /**
   * Ask for more peers now (the peer list ran dry), where the tracker's `min interval` and our own
   * re-announce floor allow it; a group whose announce is under way is left alone.
   */
  requestPeers(): void {
    if (!this.started || this.stopController.signal.aborted) return
    const now = Date.now()
    for (const group of this.groups) {
      if (group.running) continue
      const current = this.trackers.get(group.tiers.all()[0]!)!
      const floor = Math.max(current.minIntervalMs, this.init.minAnnounceIntervalMs ?? 30_000)
      if (now - current.lastAttemptAt >= floor) this.run(group)
    }
  }

  /**
   * Announces to every tracker now (a user's "reannounce"), where the tracker's own `min interval`
   * allows it; a group whose announce is under way is left alone.
   */
  reannounce(): void {
    if (!this.started || this.stopController.signal.aborted) return
    const now = Date.now()
    for (const group of this.groups) {
      if (group.running) continue
      const current = this.trackers.get(group.tiers.all()[0]!)!
      if (now - current.lastAttemptAt >= current.minIntervalMs) this.run(group)
    }
  }

  status(): TrackerStatus[] {
    return [...this.trackers.values()].map(({ url, failures, lastError, lastAnnounce, started }) => ({
      url,
      failures,
      lastError,
      lastAnnounce,
      started,
    }))
  }

  /**
   * Stops announcing without telling the trackers we left, because another announcer takes over the
   * same torrent at once (a magnet link whose metadata arrived).
   */
  handOff(): void {
    if (this.stopController.signal.aborted) return
    this.stopController.abort()
    for (const group of this.groups) clearTimeout(group.timer)
  }

  /** Stops announcing and sends `stopped` to the trackers that know us, waiting at most `timeoutMs`. */

  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopController.signal.aborted) return
    this.stopController.abort()
    for (const group of this.groups) clearTimeout(group.timer)
    const known = [...this.trackers.values()].filter((tracker) => tracker.started)
    await Promise.allSettled(
      known.map((tracker) =>
        this.request(tracker.url, 'stopped', Math.min(timeoutMs, this.requestTimeoutMs)),
      ),
    )
  }

  private get requestTimeoutMs(): number {
    return this.init.requestTimeoutMs ?? 30_000
  }

  private run(group: Group): void {
    clearTimeout(group.timer)
    group.timer = undefined
    if (group.running) {
      // One announce per group at a time; re-run when this one ends.
      group.running.then(() => this.run(group))
      return
    }
    group.running = this.announceGroup(group).finally(() => {
      group.running = undefined
    })
  }

  /** Tries the group's trackers in tier order until one answers, then schedules the next announce. */
  private async announceGroup(group: Group): Promise<void> {
    const event = group.pendingEvent
    group.pendingEvent = undefined
    for (const url of group.tiers.all()) {
      if (this.stopController.signal.aborted) return
      const tracker = this.trackers.get(url)!
      try {
        const response = await this.request(url, tracker.started ? event : 'started', this.requestTimeoutMs)
        if (this.stopController.signal.aborted) return
        tracker.started = true
        tracker.failures = 0
        tracker.lastError = undefined
        tracker.lastAnnounce = response
        tracker.minIntervalMs = (response.minInterval ?? 0) * 1000
        group.tiers.promote(url)
        group.failedLastRound = false
        this.emit('announce', response)
        if (response.peers.length > 0) this.emit('peers', response.peers, url)
        const floor = Math.max(this.init.minAnnounceIntervalMs ?? 30_000, tracker.minIntervalMs)
        this.schedule(group, Math.max(response.interval * 1000, floor))
        return
      } catch (error) {
        if (this.stopController.signal.aborted) return
        tracker.failures++
        tracker.lastError = error instanceof Error ? error : new Error(String(error))
        this.emit('tracker-error', { url, error: tracker.lastError })
      }
    }
    // Nobody in the group answered: the pending event is not lost, and the group retries after back-off.
    group.pendingEvent ??= event
    group.failedLastRound = true
    const failures = Math.min(...group.tiers.all().map((url) => this.trackers.get(url)!.failures))
    this.schedule(
      group,
      trackerRetryDelayMs(failures, this.init.backoff, (this.init.random ?? Math.random)()),
    )
    if (this.groups.every((other) => other.failedLastRound)) {
      const failuresByUrl = [...this.trackers.values()].map((t) => ({ url: t.url, error: t.lastError! }))
      this.emit('all-failed', new AllTrackersFailedError(failuresByUrl.filter((f) => f.error !== undefined)))
    }
  }

  private schedule(group: Group, delayMs: number): void {
    if (this.stopController.signal.aborted) return
    clearTimeout(group.timer)
    group.timer = setTimeout(() => this.run(group), delayMs)
    group.timer.unref()
  }

  private async request(
    url: string,
    event: AnnounceEvent | undefined,
    timeoutMs: number,
  ): Promise<TrackerAnnounce> {
    const tracker = this.trackers.get(url)!
    tracker.lastAttemptAt = Date.now()
    const stats = this.init.stats()
    const request: AnnounceRequest = {
      infoHash: this.init.infoHash,
      peerId: this.init.peerId,
      port: this.init.port,
      uploaded: stats.uploaded,
      downloaded: stats.downloaded,
      left: stats.left,
      key: this.key,
      numwant: event === 'stopped' ? 0 : (this.init.numwant ?? 50),
      ...(event ? { event } : {}),
    }
    // `stopped` must still go out after stop() aborted everything else.
    const scope = requestScope(timeoutMs, event === 'stopped' ? undefined : this.stopController.signal)
    try {
      return await this.init.transport.announce(url, request, { signal: scope.signal })
    } finally {
      scope.dispose()
    }
  }
}

function newGroup(tiers: string[][]): Group {
  return {
    tiers: new TrackerTiers(tiers),
    timer: undefined,
    running: undefined,
    pendingEvent: undefined,
    failedLastRound: false,
  }
}

/**
 * One announce for a one-shot command (`bt peers`): every tracker in tier order until one answers.
 * Throws `AllTrackersFailedError` with each tracker's error when none does.
 */
export async function announceOnce(
  tiers: readonly (readonly string[])[],
  request: AnnounceRequest,
  transport: TrackerTransport,
  options: { signal?: AbortSignal; requestTimeoutMs?: number } = {},
): Promise<TrackerAnnounce> {
  options.signal?.throwIfAborted()
  const failures: TrackerFailure[] = []
  for (const url of new TrackerTiers(tiers).all()) {
    const scope = requestScope(options.requestTimeoutMs ?? 15_000, options.signal)
    try {
      return await transport.announce(url, request, { signal: scope.signal })
    } catch (error) {
      options.signal?.throwIfAborted()
      failures.push({ url, error: error instanceof Error ? error : new Error(String(error)) })
    } finally {
      scope.dispose()
    }
  }
  throw new AllTrackersFailedError(failures)
}

/** What an announcer feeds: a torrent or a metadata fetch. */
export interface AnnouncerOwner {
  addPeers(peers: PeerAddress[], source: 'tracker'): unknown
  emit(event: 'alert', alert: Alert): unknown
}

/**
 * An announcer whose peers go to its owner's swarm and whose failures become the owner's alerts: a
 * tracker down is for the logs, never fatal.
 */
export function ownedAnnouncer(init: AnnouncerInit, owner: AnnouncerOwner): Announcer {
  const announcer = new Announcer(init)
  announcer.on('peers', (peers) => owner.addPeers(peers, 'tracker'))
  announcer.on('tracker-error', ({ url, error }) =>
    owner.emit('alert', { type: 'tracker-failed', url, error }),
  )
  announcer.on('all-failed', (error) => owner.emit('alert', { type: 'all-trackers-failed', error }))
  return announcer
}
