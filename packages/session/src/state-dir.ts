// The state dir on disk: `session.json` (the next id), `settings.json` (the session's settings), and per torrent `torrents/<infohash>.torrent`
// (its metadata), `torrents/<infohash>.json` (its record: the commit point of an add) and
// `resume/<infohash>.bt-resume` (the file store's completion). Every write is atomic.
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FilePriority } from '@bt/client-core'
import { isPlainName } from '@bt/piece-store'
import { removeFileDurably, syncDirectory, writeFileAtomic } from './atomic-file.js'
import { StateDirError } from './errors.js'
import { defaultSettings, type SessionSettings, settingsFromJson } from './settings.js'

/** A torrent's seed limit: its own number, the session's setting, or none. */
export type SeedLimit = number | 'session' | 'unlimited'

/** What `torrents/<infohash>.json` holds. Dates are ISO strings, sizes bytes. */
export interface TorrentRecord {
  version: 1
  id: number
  infoHash: string
  /** The magnet link the torrent was added by, or one made from its metadata. */
  magnetLink: string
  downloadDir: string
  /** Stopped by the user (or by its seed ratio): stays stopped across restarts. */
  paused: boolean
  addedAt: string
  doneAt: string | null
  queuePosition: number
  /** In the torrent's file order; `null`: every file normal. */
  filePriorities: FilePriority[] | null
  /** Each file's path below `downloadDir` once something was renamed (`null`: as the torrent says). */
  filePaths?: string[][] | null
  /** Records written before idle limits existed had `seedRatioLimit: number | null` instead. */
  seedLimits: { ratio: SeedLimit; idleSeconds: SeedLimit }
  /** Stopped by a seed limit. */
  finished: boolean
  peerLimit: number
  /** This torrent's own limits, bytes per second (0: unlimited); absent in older records. */
  rateLimits?: { upload: number; download: number }
  uploadedEver: number
  downloadedEver: number
  /** Verified wanted bytes when last saved: content that vanished after this is an error, not a fresh download. */
  verifiedBytes: number
  /** Every wanted piece verified when last saved. */
  complete: boolean
  /** Peers (`host:port`) given when it was added, dialled at every start. */
  peers: string[]
}

export interface LoadedTorrent {
  record: TorrentRecord
  /** The .torrent bytes, if the metadata is known. */
  torrent: Uint8Array | undefined
}

/**
 * The settings persisted in `stateDir` (defaults where none are, new torrents going to `downloadDir`):
 * what a program reads before it makes the client (its port, DHT) and opens the session.
 */
export function readSessionSettings(
  stateDir: string,
  downloadDir: string,
  warn: (error: Error) => void,
): Promise<SessionSettings> {
  return new StateDir(stateDir).readSettings(defaultSettings(downloadDir), warn)
}

export class StateDir {
  readonly root: string
  readonly torrentsDir: string
  readonly resumeDir: string

  constructor(root: string) {
    this.root = root
    this.torrentsDir = join(root, 'torrents')
    this.resumeDir = join(root, 'resume')
  }

  torrentPath(infoHash: string): string {
    return join(this.torrentsDir, `${infoHash}.torrent`)
  }

  recordPath(infoHash: string): string {
    return join(this.torrentsDir, `${infoHash}.json`)
  }

  resumePath(infoHash: string): string {
    return join(this.resumeDir, `${infoHash}.bt-resume`)
  }

  async create(): Promise<void> {
    await mkdir(this.torrentsDir, { recursive: true })
    await mkdir(this.resumeDir, { recursive: true })
    await syncDirectory(this.root)
  }

  async readNextId(warn: (error: Error) => void): Promise<number> {
    const path = join(this.root, 'session.json')
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 1
      throw error
    }
    try {
      const value = JSON.parse(text) as { nextId?: unknown }
      if (typeof value.nextId === 'number' && Number.isSafeInteger(value.nextId) && value.nextId >= 1)
        return value.nextId
    } catch (cause) {
      warn(new StateDirError('unreadable-session', path, { cause }))
      return 1
    }
    warn(new StateDirError('unreadable-session', path))
    return 1
  }

  /** The persisted settings over `base`; an unreadable file or field is warned about and left at `base`. */
  async readSettings(base: SessionSettings, warn: (error: Error) => void): Promise<SessionSettings> {
    const path = join(this.root, 'settings.json')
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return base
      throw error
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      warn(new StateDirError('unreadable-settings', path, { cause }))
      return base
    }
    const { settings, invalid } = settingsFromJson(base, value)
    if (invalid.length > 0) {
      warn(
        new StateDirError('unreadable-settings', path, { cause: new Error(`invalid ${invalid.join(', ')}`) }),
      )
    }
    return settings
  }

  writeSettings(settings: SessionSettings): Promise<void> {
    return writeFileAtomic(join(this.root, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`)
  }

  writeNextId(nextId: number): Promise<void> {
    return writeFileAtomic(join(this.root, 'session.json'), `${JSON.stringify({ version: 1, nextId })}\n`)
  }

  writeTorrent(infoHash: string, bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(this.torrentPath(infoHash), bytes)
  }

  writeRecord(record: TorrentRecord): Promise<void> {
    return writeFileAtomic(this.recordPath(record.infoHash), `${JSON.stringify(record, null, 2)}\n`)
  }

  /** Forgets a torrent: its record first (after that it is gone whatever happens), then the rest. */
  async removeTorrent(infoHash: string): Promise<void> {
    await removeFileDurably(this.recordPath(infoHash))
    await removeFileDurably(this.torrentPath(infoHash))
    await removeFileDurably(this.resumePath(infoHash))
  }

  /**
   * Every torrent recorded. A .torrent without its record is an add that never committed (it is
   * deleted); temporary files of interrupted writes are deleted too.
   */
  async load(warn: (error: Error) => void): Promise<LoadedTorrent[]> {
    const names = await readdir(this.torrentsDir)
    const recorded = new Set<string>()
    const loaded: LoadedTorrent[] = []
    for (const name of names) {
      if (!name.endsWith('.json')) continue
      const path = join(this.torrentsDir, name)
      let record: TorrentRecord
      try {
        record = validRecord(JSON.parse(await readFile(path, 'utf8')), name.slice(0, -'.json'.length))
      } catch (cause) {
        warn(new StateDirError('unreadable-record', path, { cause }))
        continue
      }
      recorded.add(record.infoHash)
      let torrent: Uint8Array | undefined
      try {
        torrent = await readFile(this.torrentPath(record.infoHash))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
      loaded.push({ record, torrent })
    }
    for (const name of names) {
      const orphan = name.endsWith('.torrent') && !recorded.has(name.slice(0, -'.torrent'.length))
      if (orphan || name.endsWith('.tmp')) await removeFileDurably(join(this.torrentsDir, name))
    }
    for (const name of await readdir(this.resumeDir)) {
      if (name.endsWith('.tmp')) await removeFileDurably(join(this.resumeDir, name))
    }
    return loaded
  }
}

const PRIORITIES = new Set(['skip', 'low', 'normal', 'high'])

function validRecord(value: unknown, infoHash: string): TorrentRecord {
  const fail = (field: string): never => {
    throw new TypeError(`field ${field} is missing or invalid`)
  }
  if (typeof value !== 'object' || value === null) fail('(root)')
  const record = value as Record<string, unknown>
  const count = (field: string) => {
    const n = record[field]
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(field)
    return n as number
  }
  const text = (field: string) =>
    typeof record[field] === 'string' ? (record[field] as string) : fail(field)
  if (record.infoHash !== infoHash) fail('infoHash')
  const id = count('id')
  if (id < 1) fail('id')
  const priorities = record.filePriorities
  if (
    priorities !== null &&
    !(Array.isArray(priorities) && priorities.every((p) => typeof p === 'string' && PRIORITIES.has(p)))
  )
    fail('filePriorities')
  const limits = (record.seedLimits ?? {}) as Record<string, unknown>
  const seedLimit = (value: unknown, field: string): SeedLimit => {
    if (value === undefined || value === null || value === 'session') return 'session'
    if (value === 'unlimited') return value
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
    return fail(field)
  }
  const ratio = seedLimit(limits.ratio ?? record.seedRatioLimit, 'seedLimits.ratio')
  const idleSeconds = seedLimit(limits.idleSeconds, 'seedLimits.idleSeconds')
  const peerLimit = record.peerLimit === undefined ? 50 : count('peerLimit')
  if (peerLimit < 1) fail('peerLimit')
  const doneAt = record.doneAt
  if (doneAt !== null && typeof doneAt !== 'string') fail('doneAt')
  const paths = record.filePaths
  if (
    paths != null &&
    !(
      Array.isArray(paths) &&
      paths.every((path) => Array.isArray(path) && path.every((c) => typeof c === 'string' && isPlainName(c)))
    )
  )
    fail('filePaths')
  const peers = Array.isArray(record.peers) ? record.peers.filter((p) => typeof p === 'string') : []
  return {
    version: 1,
    id,
    infoHash,
    magnetLink: text('magnetLink'),
    downloadDir: text('downloadDir'),
    paused: record.paused === true,
    addedAt: text('addedAt'),
    doneAt: doneAt as string | null,
    queuePosition: count('queuePosition'),
    filePriorities: priorities as FilePriority[] | null,
    filePaths: (paths ?? null) as string[][] | null,
    seedLimits: { ratio, idleSeconds },
    finished: record.finished === true,
    peerLimit,
    rateLimits: rateLimitsOf(record.rateLimits),
    uploadedEver: count('uploadedEver'),
    downloadedEver: count('downloadedEver'),
    verifiedBytes: count('verifiedBytes'),
    complete: record.complete === true,
    peers: peers as string[],
  }
}

/** A record's `rateLimits`, each a non-negative byte rate; anything else reads as unlimited. */
function rateLimitsOf(value: unknown): { upload: number; download: number } {
  const limits = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  const rate = (field: string) => {
    const n = limits[field]
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0
  }
  return { upload: rate('upload'), download: rate('download') }
}
