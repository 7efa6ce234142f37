// A persisted session of many torrents over one client-core Client: the state dir keeps every torrent
// (metadata, record, resume data) so a restart — even after `kill -9` — brings each back in its state;
// a download queue decides which run; per-torrent operations are serialised on the torrent's own chain
// so a stop never races the start it follows.
import { EventEmitter } from 'node:events'
import { stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import type { Bitfield } from '@bt/bitfield'
import {
  type Client,
  createClient,
  type FilePriority,
  type FileProgress,
  type MetadataFetch,
  seedLimitReached,
  type Torrent,
  type TorrentProgress,
  wantedPieces,
} from '@bt/client-core'
import { type MagnetLink, type Metainfo, parseMagnet, parseTorrent, toMagnet } from '@bt/metainfo'
import { type PeerAddress, parsePeerAddress } from '@bt/peer-address'
import { createFileStore, type FileStore, isPlainName } from '@bt/piece-store'
import { DataMissingError, SessionClosedError, StateDirError, TorrentNotFoundError } from './errors.js'
import { torrentFromInfo } from './magnet-torrent.js'
import { moveContent, renameInside } from './move-content.js'
import { runnable } from './queue.js'
import {
  applySettingsChanges,
  defaultSettings,
  effectiveRateLimits,
  type SessionSettings,
  type SettingsChanges,
} from './settings.js'
import { type SeedLimit, StateDir, type TorrentRecord } from './state-dir.js'

export interface SessionInit {
  /** Created if missing. */
  stateDir: string
  /** Default download dir for new torrents, until the settings say another. */
  downloadDir: string
  /** Settings that override the persisted ones from now on (and are saved): a command line's choices. */
  settings?: SettingsChanges
  /** A listening client-core Client (the caller owns it); else one is made, listening on `port`/`host`. */
  client?: Client
  /** Listen port of the client the session makes (default 0: any free port). */
  port?: number
  /** Listen address of the client the session makes (default: every interface). */
  host?: string
  /** How often verified pieces are checkpointed to the resume data, ms. Default 2000. */
  resumeFlushIntervalMs?: number
  /** How often running torrents' records (transfer counters) are saved, ms. Default 10 000. */
  saveIntervalMs?: number
  /** What the session survives: an unreadable state-dir file, a failed background save. */
  onWarning?: (error: Error) => void
}

export type SessionTorrentStatus =
  | 'stopped'
  | 'queued'
  | 'checking'
  | 'downloading'
  | 'seeding'
  | 'fetching-metadata'
  | 'error'

export interface SessionTorrent {
  /** 1, 2, 3… never reused in a state dir. */
  readonly id: number
  readonly infoHash: string
  readonly name: string
  readonly status: SessionTorrentStatus
  readonly error: string | undefined
  readonly downloadDir: string
  readonly addedAt: Date
  readonly doneAt: Date | undefined
  /** Undefined while a magnet's metadata is being fetched. */
  readonly meta: Metainfo | undefined
  readonly magnetLink: string
  readonly queuePosition: number
  /** client-core's, while running. */
  readonly progress: TorrentProgress | undefined
  /** client-core's, while running. */
  readonly files: FileProgress[] | undefined
  /**
   * Each file's path below `downloadDir` (path components, the torrent's folder first for a multi-file
   * torrent), renames included, once the metadata is known.
   */
  readonly filePaths: readonly (readonly string[])[] | undefined
  /** Each file's priority (torrent file order), once the metadata is known. */
  readonly filePriorities: readonly FilePriority[] | undefined
  /** Verified wanted bytes: live while running, else as last saved. */
  readonly verifiedBytes: number
  /** Bytes, persisted across restarts. */
  readonly uploadedEver: number
  readonly downloadedEver: number
  /**
   * When seeding stops by itself: at `ratio` (uploaded ≥ ratio × wanted size) or after `idleSeconds`
   * seeding without uploading a byte; each its own number, the session's, or never.
   */
  readonly seedLimits: { readonly ratio: SeedLimit; readonly idleSeconds: SeedLimit }
  /** Stopped because a seed limit was reached (Transmission's `isFinished`); cleared by a start. */
  readonly finished: boolean
  /** Most connections of this torrent. */
  readonly peerLimit: number
  /** Its own speed limits, bytes per second (0: unlimited); the session's come on top. */
  readonly rateLimits: { readonly upload: number; readonly download: number }
}

export type TorrentSource = { torrent: Uint8Array } | { magnet: string }

export interface AddOptions {
  downloadDir?: string
  /** Added stopped. */
  paused?: boolean
  /** Peers to dial (`host:port`, IP literals), kept with the torrent and dialled at every start. */
  peers?: readonly string[]
}

export interface SessionEvents {
  changed: [SessionTorrent]
}

export interface Session {
  readonly stateDir: string
  /** The client the torrents run in. */
  readonly client: Client
  /** As persisted in the state dir's `settings.json`. */
  readonly settings: SessionSettings
  /** Applies and saves setting changes (each checked: a RangeError names a bad one, and nothing changes). */
  setSettings(changes: SettingsChanges): Promise<void>
  torrents(): SessionTorrent[]
  get(idOrHash: number | string): SessionTorrent | undefined
  add(
    source: TorrentSource,
    options?: AddOptions,
  ): Promise<{ kind: 'added' | 'duplicate'; torrent: SessionTorrent }>
  /** `now`: skip the queue. */
  start(id: number, options?: { now?: boolean }): Promise<void>
  stop(id: number): Promise<void>
  remove(id: number, options?: { deleteData?: boolean }): Promise<void>
  /** Rechecks the data on disk (resolves once checked). */
  verify(id: number): Promise<void>
  /** Asks a running torrent's trackers and the DHT for peers now (Transmission's reannounce). */
  reannounce(id: number): Promise<void>
  setFilePriority(id: number, fileIndex: number, priority: FilePriority): Promise<void>
  /** Sets either seed limit (absent: unchanged), at once and persisted. */
  setSeedLimits(id: number, limits: { ratio?: SeedLimit; idleSeconds?: SeedLimit }): Promise<void>
  /**
   * Points the torrent at `downloadDir` (absolute): with `move`, its content is moved there first (a
   * rename, or a copy then delete across file systems); without, the data already there is checked.
   */
  setLocation(id: number, downloadDir: string, options?: { move?: boolean }): Promise<void>
  /**
   * Renames the file or folder at `path` (`/`-separated, as `filePaths` are) to `name`, one path
   * component, on disk and in the torrent; the torrent's own folder (or single file) renames its `name`.
   */
  renamePath(id: number, path: string, name: string): Promise<void>
  /** Sets the torrent's connection cap, at once and persisted. */
  setPeerLimit(id: number, peerLimit: number): Promise<void>
  /** Sets the torrent's own speed limits (bytes per second, 0: unlimited), at once and persisted. */
  setRateLimits(id: number, limits: { upload?: number; download?: number }): Promise<void>
  moveQueue(id: number, to: 'top' | 'up' | 'down' | 'bottom'): Promise<void>
  /** Ids removed since `since` (for Transmission's recently-active). */
  removedSince(since: Date): number[]
  /** Stops every torrent cleanly (trackers told, resume data saved). */
  close(): Promise<void>
  on(event: 'changed', listener: (torrent: SessionTorrent) => void): this
  off(event: 'changed', listener: (torrent: SessionTorrent) => void): this
}

/** Opens the session in `stateDir` (created if missing), bringing back every torrent in its state. */
export async function openSession(init: SessionInit): Promise<Session> {
  const session = new PersistedSession(init)
  await session.open()
  return session
}

const DEFAULT_RESUME_FLUSH_MS = 2000
const DEFAULT_SAVE_MS = 10_000

/** One attempt at running a torrent: fetching its metadata, opening its store, then the torrent itself. */
interface Run {
  readonly controller: AbortController
  phase: 'fetching' | 'checking' | 'running'
  fetch?: MetadataFetch
  store?: FileStore
  torrent?: Torrent
  /** Settles once fetching and opening are over, whatever their outcome. */
  launched: Promise<void>
}

class Entry implements SessionTorrent {
  readonly id: number
  readonly infoHash: string
  readonly addedAt: Date
  readonly magnet: MagnetLink
  readonly magnetLink: string
  readonly peers: string[]
  meta: Metainfo | undefined
  downloadDir: string
  paused: boolean
  forced = false
  checking = false
  removed = false
  errorMessage: string | undefined
  doneDate: Date | undefined
  position: number
  priorities: FilePriority[] | undefined
  renamed: string[][] | undefined
  seedLimits: { ratio: SeedLimit; idleSeconds: SeedLimit }
  finished: boolean
  peerLimit: number
  /** When the running torrent last uploaded a byte, or began seeding (ms): what an idle limit counts from. */
  activeAt = 0
  limits: { upload: number; download: number }
  uploadedBase: number
  downloadedBase: number
  savedVerifiedBytes: number
  complete: boolean
  run: Run | undefined
  /** Operations on this torrent, one after another. */
  private chain: Promise<void> = Promise.resolve()
  /** Record writes, one after another (the latest state wins). */
  writing: Promise<void> = Promise.resolve()
  lastWritten = ''

  constructor(record: TorrentRecord, meta: Metainfo | undefined) {
    this.id = record.id
    this.infoHash = record.infoHash
    this.addedAt = new Date(record.addedAt)
    this.magnetLink = record.magnetLink
    this.magnet = parseMagnet(record.magnetLink)
    this.peers = [...record.peers]
    this.meta = meta
    this.downloadDir = record.downloadDir
    this.paused = record.paused
    this.doneDate = record.doneAt === null ? undefined : new Date(record.doneAt)
    this.position = record.queuePosition
    this.priorities = record.filePriorities ?? undefined
    if (meta && this.priorities?.length !== meta.files.length) this.priorities = undefined
    this.renamed = record.filePaths ?? undefined
    if (meta && this.renamed?.length !== meta.files.length) this.renamed = undefined
    this.seedLimits = { ...record.seedLimits }
    this.finished = record.finished
    this.peerLimit = record.peerLimit
    this.limits = { upload: record.rateLimits?.upload ?? 0, download: record.rateLimits?.download ?? 0 }
    this.uploadedBase = record.uploadedEver
    this.downloadedBase = record.downloadedEver
    this.savedVerifiedBytes = record.verifiedBytes
    this.complete = record.complete
  }

  get name(): string {
    return this.renamed?.[0]?.[0] ?? this.meta?.name ?? this.magnet.name ?? this.infoHash
  }

  get filePaths(): readonly (readonly string[])[] | undefined {
    return this.meta ? this.pathsOf(this.meta) : undefined
  }

  pathsOf(meta: Metainfo): string[][] {
    return (
      this.renamed?.map((path) => [...path]) ??
      meta.files.map((file) => (meta.multiFile ? [meta.name, ...file.path] : [...file.path]))
    )
  }

  /** The content's top-level entry on disk: the single file, or the torrent's folder. */
  contentPath(meta: Metainfo): string {
    return join(this.downloadDir, this.pathsOf(meta)[0]![0]!)
  }

  get status(): SessionTorrentStatus {
    const run = this.run
    if (run) {
      if (run.phase === 'fetching') return 'fetching-metadata'
      if (run.phase === 'checking') return 'checking'
      return this.complete ? 'seeding' : 'downloading'
    }
    if (this.checking) return 'checking'
    if (this.errorMessage !== undefined) return 'error'
    if (this.paused) return 'stopped'
    return 'queued'
  }

  get error(): string | undefined {
    return this.errorMessage
  }

  get doneAt(): Date | undefined {
    return this.doneDate
  }

  get queuePosition(): number {
    return this.position
  }

  get progress(): TorrentProgress | undefined {
    return this.run?.torrent?.progress()
  }

  get files(): FileProgress[] | undefined {
    return this.run?.torrent?.fileProgress()
  }

  get filePriorities(): readonly FilePriority[] | undefined {
    return this.meta ? this.prioritiesOf(this.meta) : undefined
  }

  get verifiedBytes(): number {
    return this.progress?.verifiedBytes ?? this.savedVerifiedBytes
  }

  get uploadedEver(): number {
    return this.uploadedBase + (this.run?.torrent?.progress().uploadedBytes ?? 0)
  }

  get downloadedEver(): number {
    return this.downloadedBase + (this.run?.torrent?.progress().downloadedBytes ?? 0)
  }

  get rateLimits(): { readonly upload: number; readonly download: number } {
    return this.limits
  }

  prioritiesOf(meta: Metainfo): FilePriority[] {
    return this.priorities ?? meta.files.map((file) => (file.padding ? 'skip' : 'normal'))
  }

  /** Runs `operation` after every operation queued before it; a failure is the caller's, not the chain's. */
  enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.chain.then(operation)
    this.chain = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  record(): TorrentRecord {
    const progress = this.progress
    return {
      version: 1,
      id: this.id,
      infoHash: this.infoHash,
      magnetLink: this.magnetLink,
      downloadDir: this.downloadDir,
      paused: this.paused,
      addedAt: this.addedAt.toISOString(),
      doneAt: this.doneDate?.toISOString() ?? null,
      queuePosition: this.position,
      filePriorities: this.priorities ?? null,
      filePaths: this.renamed ?? null,
      seedLimits: this.seedLimits,
      finished: this.finished,
      peerLimit: this.peerLimit,
      rateLimits: this.limits,
      uploadedEver: this.uploadedEver,
      downloadedEver: this.downloadedEver,
      verifiedBytes: progress?.verifiedBytes ?? this.savedVerifiedBytes,
      complete: this.complete,
      peers: this.peers,
    }
  }
}

class PersistedSession extends EventEmitter<SessionEvents> implements Session {
  readonly stateDir: string
  readonly client: Client
  private readonly dir: StateDir
  private readonly ownsClient: boolean
  private readonly init: SessionInit
  private current: SessionSettings
  private readonly entries = new Map<number, Entry>()
  private readonly byHash = new Map<string, Entry>()
  private readonly removed: { id: number; at: number }[] = []
  private nextId = 1
  private closed = false
  private timer: NodeJS.Timeout | undefined

  constructor(init: SessionInit) {
    super()
    this.init = init
    this.stateDir = resolve(init.stateDir)
    this.dir = new StateDir(this.stateDir)
    this.ownsClient = init.client === undefined
    this.client = init.client ?? createClient()
    this.current = defaultSettings(resolve(init.downloadDir))
  }

  get settings(): SessionSettings {
    return this.current
  }

  warn(error: unknown): void {
    this.init.onWarning?.(error instanceof Error ? error : new Error(String(error)))
  }

  async open(): Promise<void> {
    await this.dir.create()
    if (this.ownsClient) {
      await this.client.listen({
        port: this.init.port ?? 0,
        ...(this.init.host !== undefined ? { host: this.init.host } : {}),
      })
    }
    const warn = (error: Error) => this.warn(error)
    const persisted = await this.dir.readSettings(this.current, warn)
    this.current = applySettingsChanges(persisted, this.init.settings ?? {})
    // Written at every open: the file always says what this session runs with.
    await this.dir.writeSettings(this.current)
    this.client.setRateLimits(effectiveRateLimits(this.current))
    this.client.setMaxConnections(this.current.peerLimitGlobal)
    this.client.setEncryption(this.current.encryption)
    this.nextId = await this.dir.readNextId(warn)
    const loaded = await this.dir.load(warn)
    loaded.sort((a, b) => a.record.queuePosition - b.record.queuePosition || a.record.id - b.record.id)
    for (const { record, torrent } of loaded) {
      let meta: Metainfo | undefined
      if (torrent) {
        try {
          meta = parseTorrent(torrent)
          if (meta.infoHash !== record.infoHash) throw new Error(`info hash ${meta.infoHash}`)
        } catch (cause) {
          // Its metadata is fetched again, as for a magnet.
          this.warn(new StateDirError('unreadable-torrent', this.dir.torrentPath(record.infoHash), { cause }))
          meta = undefined
        }
      }
      let entry: Entry
      try {
        entry = new Entry(record, meta)
      } catch (cause) {
        this.warn(new StateDirError('unreadable-record', this.dir.recordPath(record.infoHash), { cause }))
        continue
      }
      this.entries.set(entry.id, entry)
      this.byHash.set(entry.infoHash, entry)
      this.nextId = Math.max(this.nextId, entry.id + 1)
    }
    this.renumberQueue()
    const interval = this.init.saveIntervalMs ?? DEFAULT_SAVE_MS
    this.timer = setInterval(() => this.saveRunning(), interval)
    this.timer.unref()
    this.schedule()
  }

  // Queries.

  torrents(): SessionTorrent[] {
    return [...this.entries.values()].sort((a, b) => a.id - b.id)
  }

  get(idOrHash: number | string): SessionTorrent | undefined {
    return this.find(idOrHash)
  }

  private find(idOrHash: number | string): Entry | undefined {
    return typeof idOrHash === 'number' ? this.entries.get(idOrHash) : this.byHash.get(idOrHash.toLowerCase())
  }

  private entry(id: number): Entry {
    if (this.closed) throw new SessionClosedError()
    const entry = this.find(id)
    if (!entry) throw new TorrentNotFoundError(id)
    return entry
  }

  removedSince(since: Date): number[] {
    const at = since.getTime()
    return this.removed.filter((removal) => removal.at >= at).map((removal) => removal.id)
  }

  async setSettings(changes: SettingsChanges): Promise<void> {
    if (this.closed) throw new SessionClosedError()
    const next = applySettingsChanges(this.current, changes)
    this.current = next
    await this.dir.writeSettings(next)
    this.client.setRateLimits(effectiveRateLimits(next))
    this.client.setMaxConnections(next.peerLimitGlobal)
    this.client.setEncryption(next.encryption)
    for (const entry of this.entries.values()) this.checkSeedLimit(entry)
    this.schedule()
  }

  // Adding.

  async add(
    source: TorrentSource,
    options: AddOptions = {},
  ): Promise<{ kind: 'added' | 'duplicate'; torrent: SessionTorrent }> {
    if (this.closed) throw new SessionClosedError()
    let meta: Metainfo | undefined
    let bytes: Uint8Array | undefined
    let magnetLink: string
    if ('torrent' in source) {
      bytes = source.torrent
      meta = parseTorrent(bytes)
      magnetLink = toMagnet(meta)
    } else {
      magnetLink = source.magnet.trim()
    }
    const magnet = meta ? undefined : parseMagnet(magnetLink)
    const infoHash = meta?.infoHash ?? magnet!.infoHash
    const peers = (options.peers ?? []).map((peer) => {
      parsePeerAddress(peer)
      return peer
    })
    const existing = this.byHash.get(infoHash)
    if (existing) {
      if (meta && bytes && !existing.meta) {
        const known = meta
        const torrentBytes = bytes
        await existing.enqueue(async () => {
          if (existing.meta || existing.removed) return
          await this.dir.writeTorrent(infoHash, torrentBytes)
          if (existing.run) await this.halt(existing)
          existing.meta = known
          this.persist(existing)
          this.changed(existing)
        })
        this.schedule()
      }
      return { kind: 'duplicate', torrent: existing }
    }
    const id = this.nextId++
    const record: TorrentRecord = {
      version: 1,
      id,
      infoHash,
      magnetLink,
      downloadDir: resolve(options.downloadDir ?? this.current.downloadDir),
      paused: options.paused ?? !this.current.startAddedTorrents,
      addedAt: new Date().toISOString(),
      doneAt: null,
      queuePosition: this.entries.size,
      filePriorities: null,
      seedLimits: { ratio: 'session', idleSeconds: 'session' },
      finished: false,
      peerLimit: this.current.peerLimitPerTorrent,
      uploadedEver: 0,
      downloadedEver: 0,
      verifiedBytes: 0,
      complete: false,
      peers,
    }
    const entry = new Entry(record, meta)
    // Registered at once, so a second add of the same info hash meanwhile is a duplicate.
    this.entries.set(id, entry)
    this.byHash.set(infoHash, entry)
    try {
      // The id first (never reused even if the add does not commit), then the metadata, then the
      // record: the commit point.
      await this.dir.writeNextId(this.nextId)
      if (bytes) await this.dir.writeTorrent(infoHash, bytes)
      entry.lastWritten = JSON.stringify(record)
      await this.dir.writeRecord(record)
    } catch (error) {
      this.entries.delete(id)
      this.byHash.delete(infoHash)
      throw error
    }
    this.changed(entry)
    this.schedule()
    return { kind: 'added', torrent: entry }
  }

  // Operations.

  async start(id: number, options: { now?: boolean } = {}): Promise<void> {
    const entry = this.entry(id)
    await entry.enqueue(async () => {
      if (entry.errorMessage !== undefined && !entry.run) entry.errorMessage = undefined
      entry.paused = false
      entry.finished = false
      if (options.now) entry.forced = true
      this.persist(entry)
      this.changed(entry)
    })
    this.schedule()
    await entry.enqueue(async () => {})
  }

  async stop(id: number): Promise<void> {
    const entry = this.entry(id)
    await entry.enqueue(async () => {
      entry.paused = true
      entry.forced = false
      if (entry.run) await this.halt(entry)
      this.persist(entry)
      this.changed(entry)
    })
    this.schedule()
  }

  async remove(id: number, options: { deleteData?: boolean } = {}): Promise<void> {
    const entry = this.entry(id)
    await entry.enqueue(async () => {
      if (entry.removed) return
      entry.removed = true
      this.entries.delete(entry.id)
      this.byHash.delete(entry.infoHash)
      this.removed.push({ id: entry.id, at: Date.now() })
      await entry.writing
      // The record goes first: from then on the torrent is gone, whatever happens to the rest.
      await this.dir.removeTorrent(entry.infoHash)
      if (entry.run) await this.halt(entry, { deleteData: options.deleteData === true })
      else if (options.deleteData && entry.meta) {
        const store = await createFileStore(entry.meta, { ...this.storeInit(entry, 'auto'), check: 'none' })
        await store.destroy()
      }
      this.renumberQueue()
    })
    this.schedule()
  }

  async reannounce(id: number): Promise<void> {
    this.entry(id).run?.torrent?.reannounce()
  }

  async verify(id: number): Promise<void> {
    const entry = this.entry(id)
    await entry.enqueue(async () => {
      const meta = entry.meta
      if (!meta) return
      if (entry.run) await this.halt(entry)
      await this.check(entry, meta)
    })
    this.schedule()
  }

  /** Hashes the torrent's data on disk (it is not running): what verifies is what it has. */
  private async check(entry: Entry, meta: Metainfo): Promise<void> {
    entry.errorMessage = undefined
    entry.checking = true
    this.changed(entry)
    try {
      const store = await createFileStore(meta, this.storeInit(entry, 'always'))
      this.learnCompletion(entry, meta, store.have)
      await store.close()
    } catch (error) {
      entry.errorMessage = messageOf(error)
    } finally {
      entry.checking = false
    }
    this.persist(entry)
    this.changed(entry)
  }

  async setFilePriority(id: number, fileIndex: number, priority: FilePriority): Promise<void> {
    const entry = this.entry(id)
    if (!['skip', 'low', 'normal', 'high'].includes(priority))
      throw new RangeError(`session: unknown file priority ${JSON.stringify(priority)}`)
    await entry.enqueue(async () => {
      const meta = entry.meta
      if (!meta) throw new RangeError(`session: torrent ${id} has no metadata yet`)
      const file = meta.files[fileIndex]
      if (!Number.isInteger(fileIndex) || !file)
        throw new RangeError(`session: no file ${fileIndex} (torrent ${id} has ${meta.files.length})`)
      if (file.padding) return
      const priorities = entry.prioritiesOf(meta)
      const before = priorities[fileIndex]
      priorities[fileIndex] = priority
      entry.priorities = priorities
      const torrent = entry.run?.torrent
      if (torrent) {
        torrent.setFilePriority(fileIndex, priority)
        const progress = torrent.progress()
        entry.complete = progress.piecesVerified === progress.piecesWanted
      } else if (before === 'skip' && priority !== 'skip') entry.complete = false
      this.persist(entry)
      this.changed(entry)
    })
    this.schedule()
  }

  async setSeedLimits(id: number, limits: { ratio?: SeedLimit; idleSeconds?: SeedLimit }): Promise<void> {
    const entry = this.entry(id)
    const check = (name: string, limit: SeedLimit | undefined, valid: (n: number) => boolean) => {
      if (limit === undefined || limit === 'session' || limit === 'unlimited') return
      if (!(typeof limit === 'number' && valid(limit)))
        throw new RangeError(
          `session: a seed ${name} limit must be 'session', 'unlimited' or a number, got ${limit}`,
        )
    }
    check('ratio', limits.ratio, (n) => n >= 0 && Number.isFinite(n))
    check('idle', limits.idleSeconds, (n) => n >= 1 && Number.isSafeInteger(n))
    await entry.enqueue(async () => {
      entry.seedLimits = {
        ratio: limits.ratio ?? entry.seedLimits.ratio,
        idleSeconds: limits.idleSeconds ?? entry.seedLimits.idleSeconds,
      }
      this.persist(entry)
      this.changed(entry)
      this.checkSeedLimit(entry)
    })
  }

  async setLocation(id: number, downloadDir: string, options: { move?: boolean } = {}): Promise<void> {
    const entry = this.entry(id)
    if (!isAbsolute(downloadDir) || downloadDir.includes('\0'))
      throw new RangeError(
        `session: a download dir must be an absolute path, got ${JSON.stringify(downloadDir)}`,
      )
    const target = resolve(downloadDir)
    await entry.enqueue(async () => {
      if (target === entry.downloadDir) return
      if (entry.run) await this.halt(entry)
      const meta = entry.meta
      if (options.move && meta) {
        const top = entry.pathsOf(meta)[0]![0]!
        await moveContent(entry.contentPath(meta), join(target, top))
      }
      entry.downloadDir = target
      entry.errorMessage = undefined
      this.persist(entry)
      this.changed(entry)
      // Without a move the data there is new to us: what is verified is what the check finds.
      if (!options.move && meta) await this.check(entry, meta)
    })
    this.schedule()
  }

  async renamePath(id: number, path: string, name: string): Promise<void> {
    const entry = this.entry(id)
    if (!isPlainName(name)) throw new RangeError(`session: ${JSON.stringify(name)} is not a plain file name`)
    const from = path.split('/')
    if (!from.every(isPlainName))
      throw new RangeError(`session: ${JSON.stringify(path)} is not a torrent path`)
    await entry.enqueue(async () => {
      const meta = entry.meta
      if (!meta) throw new RangeError(`session: torrent ${id} has no metadata yet`)
      const paths = entry.pathsOf(meta)
      const under = (p: readonly string[], prefix: readonly string[]) =>
        p.length >= prefix.length && prefix.every((component, at) => p[at] === component)
      const moved = paths.map((p) => under(p, from))
      if (!moved.includes(true)) throw new RangeError(`session: torrent ${id} has no file or folder ${path}`)
      const to = [...from.slice(0, -1), name]
      if (name === from.at(-1)) return
      if (paths.some((p, index) => !moved[index] && (under(p, to) || under(to, p))))
        throw new RangeError(`session: torrent ${id} already has ${to.join('/')}`)
      if (entry.run) await this.halt(entry)
      await renameInside(entry.downloadDir, from, to)
      entry.renamed = paths.map((p, index) => (moved[index] ? [...to, ...p.slice(from.length)] : p))
      this.persist(entry)
      this.changed(entry)
    })
    this.schedule()
  }

  async setPeerLimit(id: number, peerLimit: number): Promise<void> {
    const entry = this.entry(id)
    if (!(Number.isSafeInteger(peerLimit) && peerLimit >= 1))
      throw new RangeError(`session: a peer limit must be an integer ≥ 1, got ${peerLimit}`)
    await entry.enqueue(async () => {
      entry.peerLimit = peerLimit
      entry.run?.torrent?.setMaxConnections(peerLimit)
      this.persist(entry)
      this.changed(entry)
    })
  }

  async setRateLimits(id: number, limits: { upload?: number; download?: number }): Promise<void> {
    const entry = this.entry(id)
    for (const rate of [limits.upload, limits.download]) {
      if (rate !== undefined && !(rate >= 0 && Number.isFinite(rate)))
        throw new RangeError(`session: a rate limit must be a number ≥ 0, got ${rate}`)
    }
    await entry.enqueue(async () => {
      entry.limits = {
        upload: limits.upload ?? entry.limits.upload,
        download: limits.download ?? entry.limits.download,
      }
      entry.run?.torrent?.setRateLimits(entry.limits)
      this.persist(entry)
      this.changed(entry)
    })
  }

  async moveQueue(id: number, to: 'top' | 'up' | 'down' | 'bottom'): Promise<void> {
    const entry = this.entry(id)
    const order = this.queueOrder()
    const from = order.indexOf(entry)
    order.splice(from, 1)
    const target =
      to === 'top'
        ? 0
        : to === 'bottom'
          ? order.length
          : to === 'up'
            ? Math.max(0, from - 1)
            : Math.min(order.length, from + 1)
    order.splice(target, 0, entry)
    this.renumberQueue(order)
    this.schedule()
    await Promise.all(order.map((each) => each.writing))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    const entries = [...this.entries.values()]
    await Promise.all(
      entries.map((entry) =>
        entry.enqueue(async () => {
          if (entry.run) await this.halt(entry)
          this.persist(entry)
        }),
      ),
    )
    await Promise.all(entries.map((entry) => entry.writing))
    if (this.ownsClient) await this.client.close()
  }

  // The queue and running torrents.

  private queueOrder(): Entry[] {
    return [...this.entries.values()].sort((a, b) => a.position - b.position)
  }

  /** Queue positions 0…n-1 in `order` (default: the current order); changed records are saved. */
  private renumberQueue(order = this.queueOrder()): void {
    order.forEach((entry, index) => {
      if (entry.position === index) return
      entry.position = index
      if (entry.lastWritten !== '') this.persist(entry)
      this.changed(entry)
    })
  }

  /** Brings every torrent to what the queue says: launched if it should run, halted if not. */
  private schedule(): void {
    if (this.closed) return
    const run = this.desired()
    for (const entry of this.entries.values()) {
      if (run.has(entry) === (entry.run !== undefined)) continue
      entry
        .enqueue(async () => {
          // The queue's verdict now: it may have changed since this check was queued.
          if (this.closed || entry.removed) return
          const should = this.desired().has(entry)
          if (should && !entry.run) this.launch(entry)
          else if (!should && entry.run) {
            await this.halt(entry)
            this.changed(entry)
          }
        })
        .catch((error: unknown) => this.warn(error))
    }
  }

  private desired(): Set<Entry> {
    return runnable(
      [...this.entries.values()].map((entry) => ({
        key: entry,
        queuePosition: entry.position,
        wanted: !entry.paused && entry.errorMessage === undefined && !entry.checking,
        hasMetadata: entry.meta !== undefined,
        complete: entry.complete,
        forced: entry.forced,
        running: entry.run !== undefined,
      })),
      this.current.downloadQueue.enabled ? this.current.downloadQueue.value : Number.POSITIVE_INFINITY,
    )
  }

  private launch(entry: Entry): void {
    const run: Run = {
      controller: new AbortController(),
      phase: entry.meta ? 'checking' : 'fetching',
      launched: Promise.resolve(),
    }
    entry.run = run
    run.launched = this.runTorrent(entry, run).catch((error: unknown) => {
      if (!run.controller.signal.aborted) this.failed(entry, run, error)
    })
    this.changed(entry)
  }

  private async runTorrent(entry: Entry, run: Run): Promise<void> {
    const signal = run.controller.signal
    let meta = entry.meta
    let found: readonly PeerAddress[] = []
    if (!meta) {
      const fetch = this.client.fetchMetadata(entry.magnet, { peers: peerAddresses(entry.peers) })
      run.fetch = fetch
      const stop = () => fetch.stop()
      signal.addEventListener('abort', stop, { once: true })
      let result: Awaited<MetadataFetch['done']>
      try {
        result = await fetch.done
      } finally {
        signal.removeEventListener('abort', stop)
      }
      signal.throwIfAborted()
      // Kept as a .torrent built around the raw info bytes, so the info hash is the magnet's.
      const bytes = torrentFromInfo(result.meta.infoBytes, {
        trackers: entry.magnet.trackers,
        webSeeds: entry.magnet.webSeeds,
      })
      meta = parseTorrent(bytes)
      await this.dir.writeTorrent(entry.infoHash, bytes)
      signal.throwIfAborted()
      entry.meta = meta
      found = result.peers
      run.phase = 'checking'
      this.persist(entry)
      this.changed(entry)
    }
    if (entry.savedVerifiedBytes > 0) {
      const content = entry.contentPath(meta)
      if (!(await exists(content))) throw new DataMissingError(entry.infoHash, content)
    }
    const store = await createFileStore(meta, this.storeInit(entry, 'auto'), { signal })
    run.store = store
    if (signal.aborted) return
    const torrent = this.client.add(meta, {
      store,
      seed: true,
      filePriorities: entry.prioritiesOf(meta),
      peers: [...peerAddresses(entry.peers), ...found],
      uploadLimit: entry.limits.upload,
      downloadLimit: entry.limits.download,
      maxConnections: entry.peerLimit,
      pex: this.current.pexEnabled,
    })
    run.torrent = torrent
    run.phase = 'running'
    entry.activeAt = Date.now()
    let uploaded = 0
    torrent.on('progress', (progress) => {
      if (entry.run !== run) return
      // Idle counts from the last byte uploaded, or from when the download completed.
      if (progress.uploadedBytes > uploaded || !entry.complete) entry.activeAt = Date.now()
      uploaded = progress.uploadedBytes
      const complete = progress.piecesVerified === progress.piecesWanted
      if (complete !== entry.complete) {
        entry.complete = complete
        this.persist(entry)
        this.schedule()
      }
      this.checkSeedLimit(entry)
      this.changed(entry)
    })
    torrent.on('done', () => {
      if (entry.run !== run) return
      entry.complete = true
      entry.forced = false
      entry.doneDate ??= new Date()
      this.persist(entry)
      this.changed(entry)
      this.checkSeedLimit(entry)
      this.schedule()
    })
    torrent.on('error', (error) => this.failed(entry, run, error))
    this.changed(entry)
  }

  private storeInit(entry: Entry, check: 'auto' | 'always') {
    return {
      directory: entry.downloadDir,
      ...(entry.renamed ? { filePaths: entry.renamed } : {}),
      resumeFile: this.dir.resumePath(entry.infoHash),
      check,
      flushInterval: this.init.resumeFlushIntervalMs ?? DEFAULT_RESUME_FLUSH_MS,
      onError: (error: Error) => this.warn(error),
    }
  }

  /** A run that failed (metadata, storage): the torrent shows 'error' with the reason until started or verified. */
  private failed(entry: Entry, run: Run, error: unknown): void {
    entry
      .enqueue(async () => {
        if (entry.run !== run) return
        await this.halt(entry)
        entry.errorMessage = messageOf(error)
        entry.forced = false
        this.changed(entry)
        this.schedule()
      })
      .catch((failure: unknown) => this.warn(failure))
  }

  /** Ends the torrent's run: trackers told `stopped`, resume data flushed, counters folded into the record. */
  private async halt(entry: Entry, options: { deleteData?: boolean } = {}): Promise<void> {
    const run = entry.run
    if (!run) return
    run.controller.abort()
    run.fetch?.stop()
    await run.launched
    try {
      if (run.torrent) {
        const progress = run.torrent.progress()
        entry.uploadedBase += progress.uploadedBytes
        entry.downloadedBase += progress.downloadedBytes
        entry.savedVerifiedBytes = progress.verifiedBytes
        entry.complete = progress.piecesVerified === progress.piecesWanted
        await this.client.remove(run.torrent, { deleteData: options.deleteData === true })
      } else if (run.store) {
        if (options.deleteData) await run.store.destroy()
        else await run.store.close()
      } else if (options.deleteData && entry.meta) {
        const store = await createFileStore(entry.meta, { ...this.storeInit(entry, 'auto'), check: 'none' })
        await store.destroy()
      }
    } finally {
      entry.run = undefined
    }
    if (options.deleteData) {
      entry.savedVerifiedBytes = 0
      entry.complete = false
    }
    this.persist(entry)
  }

  private learnCompletion(entry: Entry, meta: Metainfo, have: Bitfield): void {
    const { priorities, wantedLength } = wantedPieces(meta, entry.prioritiesOf(meta))
    let verified = 0
    let complete = true
    for (let index = 0; index < meta.pieceCount; index++) {
      if (priorities[index] === 0) continue
      if (have.has(index)) verified += wantedLength[index]!
      else complete = false
    }
    entry.savedVerifiedBytes = verified
    entry.complete = complete
    if (complete) entry.doneDate ??= new Date()
  }

  /** Stops a seeding torrent whose ratio or idle limit (its own or the session's) is reached. */
  private checkSeedLimit(entry: Entry): void {
    const progress = entry.run?.torrent?.progress()
    if (!progress || !entry.complete || entry.paused) return
    const own = (limit: SeedLimit, session: { value: number; enabled: boolean }) =>
      limit === 'unlimited'
        ? undefined
        : limit === 'session'
          ? session.enabled
            ? session.value
            : undefined
          : limit
    const idleSeconds = own(entry.seedLimits.idleSeconds, this.current.seedIdleSeconds)
    const ratio = own(entry.seedLimits.ratio, this.current.seedRatio)
    const ratioReached =
      seedLimitReached(
        { ratio },
        { uploadedBytes: entry.uploadedEver, wantedBytes: progress.wantedBytes, seedingMs: 0 },
      ) !== undefined
    const idleReached = idleSeconds !== undefined && Date.now() - entry.activeAt >= idleSeconds * 1000
    if (!ratioReached && !idleReached) return
    entry.paused = true
    entry.finished = true
    this.persist(entry)
    this.changed(entry)
    this.schedule()
  }

  // Saving.

  /** Saves the record if it changed since the last save; writes of one torrent never overlap. */
  private persist(entry: Entry): void {
    if (entry.removed) return
    entry.writing = entry.writing.then(async () => {
      if (entry.removed) return
      const record = entry.record()
      const text = JSON.stringify(record)
      if (text === entry.lastWritten) return
      try {
        await this.dir.writeRecord(record)
        entry.lastWritten = text
      } catch (error) {
        this.warn(error)
      }
    })
  }

  private saveRunning(): void {
    for (const entry of this.entries.values()) {
      if (!entry.run?.torrent) continue
      this.persist(entry)
      // An idle torrent sends no progress event to check it on.
      this.checkSeedLimit(entry)
    }
  }

  private changed(entry: Entry): void {
    if (!entry.removed) this.emit('changed', entry)
  }
}

function peerAddresses(peers: readonly string[]): PeerAddress[] {
  return peers.flatMap((peer) => {
    try {
      return [parsePeerAddress(peer)]
    } catch {
      return []
    }
  })
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
