// `bt daemon`'s answer to Transmission's RPC: the persisted @bt/session seen as the `RpcSession` the
// RPC server drives. Field by field this is Transmission's meaning of each value; settings the session
// does not have (blocklists, scripts, an incomplete dir…) show their fixed values and do not change.
import { readFile, statfs } from 'node:fs/promises'
import type { FilePriority } from '@bt/client-core'
import type { SeedLimit, Session, SessionSettings, SessionTorrent, SettingsChanges } from '@bt/session'
import {
  type RpcAddRequest,
  type RpcAddResult,
  RpcErrorKind,
  type RpcFile,
  type RpcQueueMove,
  type RpcSession,
  type RpcSessionStats,
  type RpcSettings,
  RpcStatus,
  type RpcTorrent,
  type RpcTorrentChanges,
} from '@bt/transmission-rpc'

export interface RpcSessionInit {
  session: Session
  /** The state dir (Transmission's `config-dir`). */
  configDir: string
  /** The port the client listens on now (a `peer-port` change applies at the next start). */
  listeningPort: number
  /** `session-close` asks the daemon to exit. */
  onClose(): void
  version: string
}

export function rpcSession(init: RpcSessionInit): RpcSession {
  const { session } = init
  const startedAt = Date.now()
  const rpcTorrent = (torrent: SessionTorrent) => toRpcTorrent(torrent, session.settings)
  return {
    version: init.version,
    torrents: () => session.torrents().map(rpcTorrent),
    removedSince: (seconds) => session.removedSince(new Date(seconds * 1000)),
    async add(request: RpcAddRequest): Promise<RpcAddResult> {
      const source = request.metainfo
        ? { torrent: request.metainfo }
        : request.magnet
          ? { magnet: request.magnet }
          : request.path
            ? { torrent: new Uint8Array(await readFile(request.path)) }
            : undefined
      if (!source) throw new Error('nothing to add: give metainfo, a magnet link or a path')
      const result = await session.add(source, {
        ...(request.downloadDir !== undefined ? { downloadDir: request.downloadDir } : {}),
        ...(request.paused !== undefined ? { paused: request.paused } : {}),
      })
      return { kind: result.kind, torrent: rpcTorrent(result.torrent) }
    },
    async start(list, now) {
      for (const id of list) await session.start(id, { now })
    },
    async stop(list) {
      for (const id of list) await session.stop(id)
    },
    async verify(list) {
      for (const id of list) await session.verify(id)
    },
    async reannounce(list) {
      for (const id of list) await session.reannounce(id)
    },
    async remove(list, options) {
      for (const id of list) await session.remove(id, { deleteData: options.deleteData })
    },
    async set(list, changes: RpcTorrentChanges) {
      for (const id of list) await applyChanges(session, id, changes)
    },
    async setLocation(list, location, move) {
      for (const id of list) await session.setLocation(id, location, { move })
    },
    renamePath: (id, path, name) => session.renamePath(id, path, name),
    async queueMove(list, move: RpcQueueMove) {
      for (const id of list) await session.moveQueue(id, move)
    },
    settings: () => rpcSettings(session.settings, init),
    setSettings: (changes) => session.setSettings(settingsChanges(session.settings, changes)),
    stats(): RpcSessionStats {
      const torrents = session.torrents()
      const uploadedBytes = torrents.reduce((sum, t) => sum + t.uploadedEver, 0)
      const downloadedBytes = torrents.reduce((sum, t) => sum + t.downloadedEver, 0)
      const current = {
        uploadedBytes,
        downloadedBytes,
        filesAdded: torrents.length,
        sessionCount: 1,
        secondsActive: Math.round((Date.now() - startedAt) / 1000),
      }
      return { current, cumulative: current }
    },
    async freeSpace(path) {
      const stats = await statfs(path)
      return Number(stats.bavail) * Number(stats.bsize)
    },
    peerPortOpen: () => undefined,
    async close() {
      init.onClose()
    },
  }
}

async function applyChanges(session: Session, id: number, changes: RpcTorrentChanges): Promise<void> {
  const torrent = session.get(id)
  const files = torrent?.meta?.files ?? []
  // Transmission's empty list means every file.
  const each = (list: readonly number[] | undefined) =>
    list === undefined ? [] : list.length === 0 ? files.map((_, index) => index) : list
  const set = async (list: readonly number[] | undefined, priority: FilePriority) => {
    for (const index of each(list)) await session.setFilePriority(id, index, priority)
  }
  await set(changes.filesUnwanted, 'skip')
  await set(changes.filesWanted, 'normal')
  await set(changes.priorityLow, 'low')
  await set(changes.priorityNormal, 'normal')
  await set(changes.priorityHigh, 'high')
  // Transmission's limits are KB/s (1000 bytes) with an on/off switch; ours are bytes/s, 0 = none.
  const limit = (kb: number | undefined, on: boolean | undefined, current: number) => {
    const enabled = on ?? current > 0
    const rate = kb ?? current / 1000
    return enabled ? Math.max(1, Math.round(rate)) * 1000 : 0
  }
  const upOn = changes.uploadLimited
  const downOn = changes.downloadLimited
  if (
    torrent &&
    (changes.uploadLimit !== undefined ||
      upOn !== undefined ||
      changes.downloadLimit !== undefined ||
      downOn !== undefined)
  ) {
    await session.setRateLimits(id, {
      upload: limit(changes.uploadLimit, upOn, torrent.rateLimits.upload),
      download: limit(changes.downloadLimit, downOn, torrent.rateLimits.download),
    })
  }
  if (!torrent) return
  const { seedRatio, seedIdleSeconds } = session.settings
  const ratio = seedLimitChange(
    torrent.seedLimits.ratio,
    changes.seedRatioMode,
    changes.seedRatioLimit,
    seedRatio.value,
  )
  const idle = seedLimitChange(
    torrent.seedLimits.idleSeconds,
    changes.seedIdleMode,
    changes.seedIdleLimit === undefined ? undefined : changes.seedIdleLimit * 60,
    seedIdleSeconds.value,
  )
  if (ratio !== undefined || idle !== undefined) {
    await session.setSeedLimits(id, {
      ...(ratio !== undefined ? { ratio } : {}),
      ...(idle !== undefined ? { idleSeconds: idle } : {}),
    })
  }
  if (changes.peerLimit !== undefined) await session.setPeerLimit(id, Math.max(1, changes.peerLimit))
}

/**
 * A `torrent-set` of a seed limit's mode (0 session, 1 its own, 2 unlimited) and value: the new limit, or
 * undefined for no change. A value alone changes the torrent's own limit (and makes it its own).
 */
function seedLimitChange(
  current: SeedLimit,
  mode: 0 | 1 | 2 | undefined,
  value: number | undefined,
  sessionValue: number,
): SeedLimit | undefined {
  if (mode === 0) return 'session'
  if (mode === 2) return 'unlimited'
  if (mode === 1 || value !== undefined)
    return value ?? (typeof current === 'number' ? current : sessionValue)
  return undefined
}

/** A seed limit as Transmission shows it: the value in force (own or the session's) and the mode. */
function rpcSeedLimit(limit: SeedLimit, sessionValue: number): { value: number; mode: 0 | 1 | 2 } {
  if (typeof limit === 'number') return { value: limit, mode: 1 }
  return { value: sessionValue, mode: limit === 'session' ? 0 : 2 }
}

const STATUS: Readonly<Record<SessionTorrent['status'], RpcStatus>> = {
  stopped: RpcStatus.stopped,
  queued: RpcStatus.downloadWait,
  checking: RpcStatus.checking,
  downloading: RpcStatus.downloading,
  'fetching-metadata': RpcStatus.downloading,
  seeding: RpcStatus.seeding,
  error: RpcStatus.stopped,
}

const seconds = (date: Date | undefined) => (date ? Math.floor(date.getTime() / 1000) : 0)

function toRpcTorrent(torrent: SessionTorrent, settings: SessionSettings): RpcTorrent {
  const meta = torrent.meta
  const progress = torrent.progress
  const totalSize = meta?.length ?? 0
  const done = torrent.doneAt !== undefined
  const sizeWhenDone = progress?.wantedBytes ?? wantedSize(torrent) ?? totalSize
  const haveValid = progress?.verifiedBytes ?? torrent.verifiedBytes ?? (done ? sizeWhenDone : 0)
  const leftUntilDone = Math.max(0, sizeWhenDone - haveValid)
  const rateDownload = progress?.downloadRate ?? 0
  const rateUpload = progress?.uploadRate ?? 0
  const paths = torrent.filePaths ?? []
  const files: RpcFile[] = (torrent.files ?? []).map((file, index) => ({
    name: (paths[index] ?? file.path).join('/'),
    length: file.length,
    bytesCompleted: file.verifiedBytes,
    wanted: file.priority !== 'skip',
    priority: file.priority === 'high' ? 1 : file.priority === 'low' ? -1 : 0,
  }))
  const trackers = (meta?.announceList ?? []).flatMap((tier, tierIndex) =>
    tier.map((announce) => ({ announce, scrape: scrapeUrl(announce), tier: tierIndex })),
  )
  return {
    id: torrent.id,
    hashString: torrent.infoHash,
    name: torrent.name,
    status: STATUS[torrent.status],
    error: torrent.error ? RpcErrorKind.localError : RpcErrorKind.none,
    errorString: torrent.error ?? '',
    totalSize,
    sizeWhenDone,
    leftUntilDone,
    haveValid,
    downloadedEver: torrent.downloadedEver,
    uploadedEver: torrent.uploadedEver,
    rateDownload,
    rateUpload,
    peersConnected: progress?.peers ?? 0,
    // The engine counts connections, not who trades with whom: peers move data when a rate does.
    peersGettingFromUs: rateUpload > 0 ? (progress?.peers ?? 0) : 0,
    peersSendingToUs: rateDownload > 0 ? (progress?.peers ?? 0) : 0,
    addedDate: seconds(torrent.addedAt),
    doneDate: seconds(torrent.doneAt),
    activityDate:
      rateDownload + rateUpload > 0
        ? Math.floor(Date.now() / 1000)
        : seconds(torrent.doneAt ?? torrent.addedAt),
    eta: leftUntilDone === 0 ? -1 : rateDownload > 0 ? Math.round(leftUntilDone / rateDownload) : -2,
    files,
    trackers: trackers.map((tracker, id) => ({ id, ...tracker })),
    webseeds: meta?.urlList ?? [],
    pieceCount: meta?.pieceCount ?? 0,
    pieceSize: meta?.pieceLength ?? 0,
    queuePosition: torrent.queuePosition,
    magnetLink: torrent.magnetLink,
    metadataPercentComplete: meta ? 1 : 0,
    recheckProgress: 0,
    ...seedLimitFields(torrent, settings),
    peerLimit: torrent.peerLimit,
    downloadDir: torrent.downloadDir,
    isFinished: torrent.finished,
    isPrivate: meta?.private ?? false,
    comment: meta?.comment ?? '',
    creator: meta?.createdBy ?? '',
    dateCreated: seconds(meta?.creationDate),
    downloadLimit: Math.round(torrent.rateLimits.download / 1000),
    downloadLimited: torrent.rateLimits.download > 0,
    uploadLimit: Math.round(torrent.rateLimits.upload / 1000),
    uploadLimited: torrent.rateLimits.upload > 0,
  }
}

function seedLimitFields(torrent: SessionTorrent, settings: SessionSettings) {
  const ratio = rpcSeedLimit(torrent.seedLimits.ratio, settings.seedRatio.value)
  const idle = rpcSeedLimit(torrent.seedLimits.idleSeconds, settings.seedIdleSeconds.value)
  return {
    seedRatioLimit: ratio.value,
    seedRatioMode: ratio.mode,
    seedIdleLimit: Math.round(idle.value / 60),
    seedIdleMode: idle.mode,
  }
}

function wantedSize(torrent: SessionTorrent): number | undefined {
  return torrent.files?.reduce((sum, file) => sum + (file.priority === 'skip' ? 0 : file.length), 0)
}

/** BEP 48: the scrape URL of an announce URL whose last path part starts with `announce`. */
function scrapeUrl(announce: string): string {
  const match = /^(.*\/)announce([^/]*)$/.exec(announce)
  return match ? `${match[1]}scrape${match[2]}` : ''
}

/** Transmission's KB/s (1000 bytes) from our bytes per second. */
const kb = (bytes: number) => Math.round(bytes / 1000)

/** The session's settings as `session-get` shows them; what the session lacks has fixed values. */
function rpcSettings(settings: SessionSettings, init: RpcSessionInit): RpcSettings {
  return {
    downloadDir: settings.downloadDir,
    incompleteDir: settings.downloadDir,
    incompleteDirEnabled: false,
    configDir: init.configDir,
    peerPort: settings.peerPort === 0 ? init.listeningPort : settings.peerPort,
    peerPortRandomOnStart: false,
    portForwardingEnabled: false,
    peerLimitGlobal: settings.peerLimitGlobal,
    peerLimitPerTorrent: settings.peerLimitPerTorrent,
    dhtEnabled: settings.dhtEnabled,
    pexEnabled: settings.pexEnabled,
    lpdEnabled: false,
    utpEnabled: false,
    // Transmission has no "off": plain-only reads as its most lenient.
    encryption:
      settings.encryption === 'require'
        ? 'required'
        : settings.encryption === 'prefer'
          ? 'preferred'
          : 'tolerated',
    speedLimitDown: kb(settings.downloadLimit.value),
    speedLimitDownEnabled: settings.downloadLimit.enabled,
    speedLimitUp: kb(settings.uploadLimit.value),
    speedLimitUpEnabled: settings.uploadLimit.enabled,
    altSpeedDown: kb(settings.altSpeed.download),
    altSpeedUp: kb(settings.altSpeed.upload),
    altSpeedEnabled: settings.altSpeed.enabled,
    altSpeedTimeEnabled: false,
    altSpeedTimeBegin: 540,
    altSpeedTimeEnd: 1020,
    altSpeedTimeDay: 127,
    seedRatioLimit: settings.seedRatio.value,
    seedRatioLimited: settings.seedRatio.enabled,
    idleSeedingLimit: Math.round(settings.seedIdleSeconds.value / 60),
    idleSeedingLimitEnabled: settings.seedIdleSeconds.enabled,
    downloadQueueEnabled: settings.downloadQueue.enabled,
    downloadQueueSize: settings.downloadQueue.value,
    seedQueueEnabled: false,
    seedQueueSize: 10,
    queueStalledEnabled: false,
    queueStalledMinutes: 30,
    startAddedTorrents: settings.startAddedTorrents,
    trashOriginalTorrentFiles: false,
    renamePartialFiles: false,
    cacheSizeMb: 4,
    blocklistEnabled: false,
    blocklistUrl: '',
    blocklistSize: 0,
    scriptTorrentDoneEnabled: false,
    scriptTorrentDoneFilename: '',
  }
}

/** A `session-set` as session setting changes: each value with its switch, units converted. */
function settingsChanges(current: SessionSettings, rpc: Partial<RpcSettings>): SettingsChanges {
  const changes: SettingsChanges = {}
  const switched = (
    base: { value: number; enabled: boolean },
    value: number | undefined,
    enabled: boolean | undefined,
    scale: number,
  ) =>
    value === undefined && enabled === undefined
      ? undefined
      : { value: value === undefined ? base.value : value * scale, enabled: enabled ?? base.enabled }
  const assign = <K extends keyof SettingsChanges>(key: K, value: SettingsChanges[K] | undefined) => {
    if (value !== undefined) changes[key] = value
  }
  assign('downloadDir', rpc.downloadDir)
  assign(
    'downloadLimit',
    switched(current.downloadLimit, rpc.speedLimitDown, rpc.speedLimitDownEnabled, 1000),
  )
  assign('uploadLimit', switched(current.uploadLimit, rpc.speedLimitUp, rpc.speedLimitUpEnabled, 1000))
  if (rpc.altSpeedDown !== undefined || rpc.altSpeedUp !== undefined || rpc.altSpeedEnabled !== undefined) {
    changes.altSpeed = {
      download: rpc.altSpeedDown === undefined ? current.altSpeed.download : rpc.altSpeedDown * 1000,
      upload: rpc.altSpeedUp === undefined ? current.altSpeed.upload : rpc.altSpeedUp * 1000,
      enabled: rpc.altSpeedEnabled ?? current.altSpeed.enabled,
    }
  }
  assign('downloadQueue', switched(current.downloadQueue, rpc.downloadQueueSize, rpc.downloadQueueEnabled, 1))
  assign('seedRatio', switched(current.seedRatio, rpc.seedRatioLimit, rpc.seedRatioLimited, 1))
  assign(
    'seedIdleSeconds',
    switched(current.seedIdleSeconds, rpc.idleSeedingLimit, rpc.idleSeedingLimitEnabled, 60),
  )
  assign('peerLimitGlobal', rpc.peerLimitGlobal)
  assign('peerLimitPerTorrent', rpc.peerLimitPerTorrent)
  assign('startAddedTorrents', rpc.startAddedTorrents)
  assign('peerPort', rpc.peerPort)
  assign('dhtEnabled', rpc.dhtEnabled)
  assign('pexEnabled', rpc.pexEnabled)
  if (rpc.encryption !== undefined) {
    changes.encryption =
      rpc.encryption === 'required' ? 'require' : rpc.encryption === 'preferred' ? 'prefer' : 'allow'
  }
  return changes
}
