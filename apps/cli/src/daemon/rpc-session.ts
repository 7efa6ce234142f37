// `bt daemon`'s answer to Transmission's RPC: the persisted @bt/session seen as the `RpcSession` the
// RPC server drives. Field by field this is Transmission's meaning of each value; what the engine
// does not track yet (per-torrent speed limits, moving data, reannounce) is said, not faked.
import { readFile, statfs } from 'node:fs/promises'
import type { FilePriority } from '@bt/client-core'
import type { Session, SessionTorrent } from '@bt/session'
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

/** Transmission's default seed ratio, shown while a torrent follows the session. */
const DEFAULT_SEED_RATIO = 2

export interface DaemonSettings {
  downloadDir: string
  peerPort: number
  configDir: string
  dhtEnabled: boolean
}

export interface RpcSessionInit {
  session: Session
  settings: DaemonSettings
  /** Applies `session-set`'s speed limits (bytes per second, 0: unlimited). */
  setRateLimits(limits: { upload: number; download: number }): void
  /** `session-close` asks the daemon to exit. */
  onClose(): void
  version: string
}

export function rpcSession(init: RpcSessionInit): RpcSession {
  const { session } = init
  const startedAt = Date.now()
  let settings: RpcSettings = defaultSettings(init.settings)
  return {
    version: init.version,
    torrents: () => session.torrents().map(toRpcTorrent),
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
        downloadDir: request.downloadDir ?? settings.downloadDir,
        paused: request.paused ?? !settings.startAddedTorrents,
      })
      return { kind: result.kind, torrent: toRpcTorrent(result.torrent) }
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
    async setLocation() {
      throw new Error('moving a torrent’s data is not supported yet')
    },
    async queueMove(list, move: RpcQueueMove) {
      for (const id of list) await session.moveQueue(id, move)
    },
    settings: () => settings,
    async setSettings(changes) {
      settings = { ...settings, ...changes }
      const kb = (value: number, enabled: boolean) => (enabled ? value * 1000 : 0)
      const alt = settings.altSpeedEnabled
      init.setRateLimits({
        download: alt
          ? settings.altSpeedDown * 1000
          : kb(settings.speedLimitDown, settings.speedLimitDownEnabled),
        upload: alt ? settings.altSpeedUp * 1000 : kb(settings.speedLimitUp, settings.speedLimitUpEnabled),
      })
    },
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
  if (changes.seedRatioMode !== undefined || changes.seedRatioLimit !== undefined) {
    const mode = changes.seedRatioMode ?? (torrent?.seedRatioLimit === undefined ? 0 : 1)
    await session.setSeedRatioLimit(
      id,
      mode === 1 ? (changes.seedRatioLimit ?? torrent?.seedRatioLimit ?? DEFAULT_SEED_RATIO) : undefined,
    )
  }
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

function toRpcTorrent(torrent: SessionTorrent): RpcTorrent {
  const meta = torrent.meta
  const progress = torrent.progress
  const totalSize = meta?.length ?? 0
  const done = torrent.doneAt !== undefined
  const sizeWhenDone = progress?.wantedBytes ?? wantedSize(torrent) ?? totalSize
  const haveValid = progress?.verifiedBytes ?? torrent.verifiedBytes ?? (done ? sizeWhenDone : 0)
  const leftUntilDone = Math.max(0, sizeWhenDone - haveValid)
  const rateDownload = progress?.downloadRate ?? 0
  const rateUpload = progress?.uploadRate ?? 0
  const files: RpcFile[] = (torrent.files ?? []).map((file) => ({
    name: [...(meta?.multiFile ? [meta.name] : []), ...file.path].join('/'),
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
    seedRatioLimit: torrent.seedRatioLimit ?? DEFAULT_SEED_RATIO,
    seedRatioMode: torrent.seedRatioLimit === undefined ? 0 : 1,
    downloadDir: torrent.downloadDir,
    isFinished: false,
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

function wantedSize(torrent: SessionTorrent): number | undefined {
  return torrent.files?.reduce((sum, file) => sum + (file.priority === 'skip' ? 0 : file.length), 0)
}

/** BEP 48: the scrape URL of an announce URL whose last path part starts with `announce`. */
function scrapeUrl(announce: string): string {
  const match = /^(.*\/)announce([^/]*)$/.exec(announce)
  return match ? `${match[1]}scrape${match[2]}` : ''
}

function defaultSettings(daemon: DaemonSettings): RpcSettings {
  return {
    downloadDir: daemon.downloadDir,
    incompleteDir: daemon.downloadDir,
    incompleteDirEnabled: false,
    configDir: daemon.configDir,
    peerPort: daemon.peerPort,
    peerPortRandomOnStart: false,
    portForwardingEnabled: false,
    peerLimitGlobal: 200,
    peerLimitPerTorrent: 50,
    dhtEnabled: daemon.dhtEnabled,
    pexEnabled: true,
    lpdEnabled: false,
    utpEnabled: false,
    encryption: 'tolerated',
    speedLimitDown: 100,
    speedLimitDownEnabled: false,
    speedLimitUp: 100,
    speedLimitUpEnabled: false,
    altSpeedDown: 50,
    altSpeedUp: 50,
    altSpeedEnabled: false,
    altSpeedTimeEnabled: false,
    altSpeedTimeBegin: 540,
    altSpeedTimeEnd: 1020,
    altSpeedTimeDay: 127,
    seedRatioLimit: DEFAULT_SEED_RATIO,
    seedRatioLimited: false,
    idleSeedingLimit: 30,
    idleSeedingLimitEnabled: false,
    downloadQueueEnabled: true,
    downloadQueueSize: 5,
    seedQueueEnabled: false,
    seedQueueSize: 10,
    queueStalledEnabled: false,
    queueStalledMinutes: 30,
    startAddedTorrents: true,
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
