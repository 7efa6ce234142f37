// The seeder: metainfo makes the torrent, piece-store opens the content, client-core serves it, and a
// tracker (ours on loopback, or the caller's) tells downloaders where we are.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import {
  type Client,
  createClient,
  createTrackerTransport,
  type Torrent,
  type TrackerTransport,
} from '@bt/client-core'
import { createTorrent, parseTorrent, toMagnet } from '@bt/metainfo'
import { createFileStore } from '@bt/piece-store'
import { SeederError } from './errors.js'
import { type LocalTracker, startLocalTracker } from './local-tracker.js'

export interface SeederInit {
  /** The file or folder to seed (a folder gives a multi-file torrent named after it). */
  path: string
  /** Announce to this tracker instead of starting one on loopback. */
  trackerUrl?: string
  /** Listen port for peers (default 0: any free port). */
  port?: number
  /** Listen address for peers, and of the local tracker (default `127.0.0.1`). */
  host?: string
  /** Where to write the `.torrent` (default: a temporary folder that `stop()` removes). */
  torrentPath?: string
  /** Piece length in bytes (default: chosen from the size, as `bt create` does). */
  pieceLength?: number
  /** How long the tracker may take to accept our first announce (default 10 s). */
  announceTimeoutMs?: number
}

export interface Seeder {
  /** The `.torrent` file written. */
  readonly torrentPath: string
  readonly magnet: string
  /** v1 info hash, 40 lowercase hex digits. */
  readonly infoHash: string
  readonly name: string
  /** Content size in bytes. */
  readonly length: number
  /** The tracker announced to: the one given, or the local one. */
  readonly trackerUrl: string
  /** The address and port peers connect to. */
  readonly host: string
  readonly port: number
  /** The engine's torrent: `progress` and `warning` events (peers, upload rate, uploaded bytes). */
  readonly torrent: Torrent
  /** Tells the tracker we leave, stops serving, closes the local tracker and removes temporary files. */
  stop(): Promise<void>
}

const DEFAULT_ANNOUNCE_TIMEOUT_MS = 10_000

/**
 * Makes a torrent of `path`, starts a tracker on loopback unless `trackerUrl` is given, and seeds.
 * Resolves once the tracker has accepted our first announce, so a downloader started afterwards finds
 * us at once. Throws `SeederError`, `CreateTorrentError` (unreadable content), or the signal's reason.
 */
export async function startSeeder(init: SeederInit, options: { signal?: AbortSignal } = {}): Promise<Seeder> {
  const { signal } = options
  signal?.throwIfAborted()
  const host = init.host ?? '127.0.0.1'
  const contentPath = resolve(init.path)
  const kind = await stat(contentPath).catch((cause: unknown) => {
    throw new SeederError('INVALID_PATH', `cannot read ${contentPath}`, { cause })
  })
  if (!kind.isFile() && !kind.isDirectory())
    throw new SeederError('INVALID_PATH', `${contentPath} is neither a file nor a folder`)
  if (init.trackerUrl !== undefined && !/^(https?|udp):\/\//i.test(init.trackerUrl))
    throw new SeederError(
      'INVALID_OPTION',
      `tracker URL must be http(s):// or udp://, got ${init.trackerUrl}`,
      {
        option: 'trackerUrl',
      },
    )

  // Everything started so far, undone in reverse order by stop() or by a failed start.
  const cleanups: (() => Promise<unknown>)[] = []
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    cleanups.length = 0
  }
  const failCleanups: (() => Promise<unknown>)[] = []
  try {
    let tracker: LocalTracker | undefined
    if (init.trackerUrl === undefined) {
      tracker = await startLocalTracker({ host }, { signal })
      cleanups.push(() => tracker!.close())
    }
    const trackerUrl = init.trackerUrl ?? tracker!.announceUrl

    const created = await createTorrent(contentPath, {
      announce: trackerUrl,
      ...(init.pieceLength !== undefined ? { pieceLength: init.pieceLength } : {}),
      ...(signal ? { signal } : {}),
    })
    const meta = parseTorrent(created.torrent)
    let torrentPath = init.torrentPath === undefined ? undefined : resolve(init.torrentPath)
    if (torrentPath === undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'bt-seeder-'))
      cleanups.push(() => rm(dir, { recursive: true, force: true }))
      torrentPath = join(dir, `${meta.name}.torrent`)
    }
    await writeFile(torrentPath, created.torrent)
    const written = torrentPath
    // The caller's .torrent outlives stop(), but not a failed start.
    if (init.torrentPath !== undefined) failCleanups.push(() => rm(written, { force: true }))

    // No resume file: nothing is written beside the user's content; the open re-hashes it instead,
    // which also proves it did not change since createTorrent read it.
    const store = await createFileStore(
      meta,
      kind.isDirectory()
        ? { directory: dirname(contentPath), resumeFile: null }
        : { contentPath, resumeFile: null },
      signal ? { signal } : {},
    )
    if (!store.have.complete) {
      await store.close()
      throw new SeederError('INVALID_PATH', `${contentPath} changed while the torrent was being made`)
    }

    const announced = firstAnnounce(createTrackerTransport(), meta.infoHash)
    const client: Client = createClient({ transport: announced.transport })
    cleanups.push(() => client.close())
    const port = await client.listen({ port: init.port ?? 0, host })
    const torrent = client.add(meta, { store, seed: true })
    await withTimeout(
      announced.result,
      init.announceTimeoutMs ?? DEFAULT_ANNOUNCE_TIMEOUT_MS,
      signal,
      () => new SeederError('TRACKER_FAILED', `${trackerUrl} did not answer our announce in time`),
    ).catch((cause: unknown) => {
      if (cause instanceof SeederError || signal?.aborted) throw cause
      throw new SeederError('TRACKER_FAILED', `${trackerUrl} refused our announce: ${errorMessage(cause)}`, {
        cause,
      })
    })

    let stopping: Promise<void> | undefined
    return {
      torrentPath,
      magnet: toMagnet(meta),
      infoHash: meta.infoHash,
      name: meta.name,
      length: meta.length,
      trackerUrl,
      host,
      port,
      torrent,
      stop: () => {
        stopping ??= cleanUp()
        return stopping
      },
    }
  } catch (error) {
    await cleanUp()
    for (const cleanup of failCleanups) await cleanup().catch(() => {})
    throw error
  }
}

/** A transport that also reports how our first announce of `infoHash` went. */
function firstAnnounce(
  inner: TrackerTransport,
  infoHash: string,
): { transport: TrackerTransport; result: Promise<void> } {
  let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined
  const result = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject }
  })
  // Nobody may be waiting any more (a stop during start): the rejection must not go unhandled.
  result.catch(() => {})
  const transport: TrackerTransport = {
    async announce(url, request, options) {
      const ours = settle !== undefined && Buffer.from(request.infoHash).toString('hex') === infoHash
      try {
        const response = await inner.announce(url, request, options)
        if (ours) settle?.resolve()
        return response
      } catch (error) {
        if (ours) settle?.reject(error)
        throw error
      } finally {
        if (ours) settle = undefined
      }
    },
    close: () => inner.close(),
  }
  return { transport, result }
}

function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(onTimeout())), ms)
    const onAbort = () => finish(() => reject(signal?.reason))
    const finish = (then: () => void) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      then()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    )
  })
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
