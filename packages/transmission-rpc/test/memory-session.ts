// A test double of RpcSession: torrents are plain records in memory and every call is logged, so a
// test can check what an RPC client made the session do. It downloads nothing.
import { createHash } from 'node:crypto'
import type {
  RpcAddRequest,
  RpcAddResult,
  RpcQueueMove,
  RpcSession,
  RpcSessionStats,
  RpcSettings,
  RpcTorrent,
  RpcTorrentChanges,
} from '../src/index.js'

export type SessionCall =
  | { method: 'add'; request: RpcAddRequest }
  | { method: 'start'; ids: number[]; now: boolean }
  | { method: 'stop' | 'verify' | 'reannounce'; ids: number[] }
  | { method: 'remove'; ids: number[]; deleteData: boolean }
  | { method: 'set'; ids: number[]; changes: RpcTorrentChanges }
  | { method: 'setLocation'; ids: number[]; location: string; move: boolean }
  | { method: 'renamePath'; id: number; path: string; name: string }
  | { method: 'queueMove'; ids: number[]; move: RpcQueueMove }
  | { method: 'setSettings'; changes: Partial<RpcSettings> }
  | { method: 'close' }

export const DEFAULT_SETTINGS: RpcSettings = {
  altSpeedDown: 50,
  altSpeedEnabled: false,
  altSpeedTimeBegin: 540,
  altSpeedTimeDay: 127,
  altSpeedTimeEnabled: false,
  altSpeedTimeEnd: 1020,
  altSpeedUp: 50,
  blocklistEnabled: false,
  blocklistSize: 0,
  blocklistUrl: '',
  cacheSizeMb: 4,
  configDir: '/state/bt',
  dhtEnabled: true,
  downloadDir: '/downloads',
  downloadQueueEnabled: true,
  downloadQueueSize: 5,
  encryption: 'preferred',
  idleSeedingLimit: 30,
  idleSeedingLimitEnabled: false,
  incompleteDir: '/downloads',
  incompleteDirEnabled: false,
  lpdEnabled: false,
  peerLimitGlobal: 200,
  peerLimitPerTorrent: 50,
  peerPort: 51413,
  peerPortRandomOnStart: false,
  pexEnabled: true,
  portForwardingEnabled: false,
  queueStalledEnabled: true,
  queueStalledMinutes: 30,
  renamePartialFiles: true,
  scriptTorrentDoneEnabled: false,
  scriptTorrentDoneFilename: '',
  seedQueueEnabled: false,
  seedQueueSize: 10,
  seedRatioLimit: 2,
  seedRatioLimited: false,
  speedLimitDown: 100,
  speedLimitDownEnabled: false,
  speedLimitUp: 100,
  speedLimitUpEnabled: false,
  startAddedTorrents: true,
  trashOriginalTorrentFiles: false,
  utpEnabled: false,
}

/** A torrent record with plausible defaults; `overrides` wins. */
export function makeTorrent(overrides: Partial<RpcTorrent> & { id: number; name: string }): RpcTorrent {
  const hashString = overrides.hashString ?? createHash('sha1').update(overrides.name).digest('hex')
  const size = overrides.totalSize ?? 1_000_000
  return {
    hashString,
    status: 0,
    error: 0,
    errorString: '',
    totalSize: size,
    sizeWhenDone: size,
    leftUntilDone: size,
    haveValid: 0,
    downloadedEver: 0,
    uploadedEver: 0,
    rateDownload: 0,
    rateUpload: 0,
    peersConnected: 0,
    peersGettingFromUs: 0,
    peersSendingToUs: 0,
    addedDate: 1_700_000_000,
    doneDate: 0,
    activityDate: 0,
    eta: -1,
    files: [{ name: overrides.name, length: size, bytesCompleted: 0, wanted: true, priority: 0 }],
    trackers: [],
    pieceCount: Math.ceil(size / 16384),
    pieceSize: 16384,
    queuePosition: overrides.id - 1,
    magnetLink: `magnet:?xt=urn:btih:${hashString}&dn=${encodeURIComponent(overrides.name)}`,
    metadataPercentComplete: 1,
    recheckProgress: 0,
    seedRatioLimit: 2,
    seedRatioMode: 0,
    downloadDir: '/downloads',
    isFinished: false,
    ...overrides,
  }
}

export interface MemorySession extends RpcSession {
  readonly calls: SessionCall[]
  readonly list: RpcTorrent[]
  removed: Array<{ id: number; at: number }>
  currentSettings: RpcSettings
  portOpen: boolean | undefined
}

/**
 * `add` makes a torrent from the request: metainfo is hashed for its hash (not parsed), a magnet's
 * `btih` is used as is, a path becomes a torrent named after the file.
 */
export function createMemorySession(
  torrents: RpcTorrent[] = [],
  nowSeconds = () => Date.now() / 1000,
): MemorySession {
  const list = [...torrents]
  let nextId = Math.max(0, ...list.map((t) => t.id)) + 1
  const calls: SessionCall[] = []
  const session: MemorySession = {
    calls,
    list,
    removed: [],
    currentSettings: DEFAULT_SETTINGS,
    portOpen: undefined,
    version: '3.00 (bt test double)',
    torrents: () => list,
    removedSince: (since) => session.removed.filter((r) => r.at >= since).map((r) => r.id),
    async add(request: RpcAddRequest): Promise<RpcAddResult> {
      calls.push({ method: 'add', request })
      let hash: string
      let name: string
      if (request.metainfo !== undefined) {
        hash = createHash('sha1').update(request.metainfo).digest('hex')
        name = `metainfo-${request.metainfo.byteLength}`
      } else if (request.magnet !== undefined) {
        const match = /xt=urn:btih:([0-9a-f]{40})/i.exec(request.magnet)
        if (match?.[1] === undefined) throw new Error('invalid or corrupt torrent file')
        hash = match[1].toLowerCase()
        name = new URL(request.magnet).searchParams.get('dn') ?? hash
      } else if (request.path !== undefined) {
        hash = createHash('sha1').update(request.path).digest('hex')
        name = request.path.split('/').pop() ?? request.path
      } else throw new Error('nothing to add')
      const existing = list.find((t) => t.hashString === hash)
      if (existing !== undefined) return { kind: 'duplicate', torrent: existing }
      const torrent = makeTorrent({
        id: nextId++,
        name,
        hashString: hash,
        downloadDir: request.downloadDir ?? session.currentSettings.downloadDir,
        status: request.paused === true ? 0 : 4,
        addedDate: Math.floor(nowSeconds()),
      })
      list.push(torrent)
      return { kind: 'added', torrent }
    },
    async start(ids, now) {
      calls.push({ method: 'start', ids: [...ids], now })
      update(ids, { status: 4 })
    },
    async stop(ids) {
      calls.push({ method: 'stop', ids: [...ids] })
      update(ids, { status: 0 })
    },
    async verify(ids) {
      calls.push({ method: 'verify', ids: [...ids] })
      update(ids, { status: 1 })
    },
    async reannounce(ids) {
      calls.push({ method: 'reannounce', ids: [...ids] })
    },
    async remove(ids, options) {
      calls.push({ method: 'remove', ids: [...ids], deleteData: options.deleteData })
      for (const id of ids) {
        const index = list.findIndex((t) => t.id === id)
        if (index >= 0) list.splice(index, 1)
        session.removed.push({ id, at: Math.floor(nowSeconds()) })
      }
    },
    async set(ids, changes) {
      calls.push({ method: 'set', ids: [...ids], changes })
    },
    async setLocation(ids, location, move) {
      calls.push({ method: 'setLocation', ids: [...ids], location, move })
      update(ids, { downloadDir: location })
    },
    async renamePath(id, path, name) {
      calls.push({ method: 'renamePath', id, path, name })
    },
    async queueMove(ids, move) {
      calls.push({ method: 'queueMove', ids: [...ids], move })
    },
    settings: () => session.currentSettings,
    async setSettings(changes) {
      calls.push({ method: 'setSettings', changes })
      session.currentSettings = { ...session.currentSettings, ...changes }
    },
    stats: (): RpcSessionStats => ({
      current: {
        uploadedBytes: 1000,
        downloadedBytes: 2000,
        filesAdded: 1,
        sessionCount: 1,
        secondsActive: 60,
      },
      cumulative: {
        uploadedBytes: 5000,
        downloadedBytes: 9000,
        filesAdded: 4,
        sessionCount: 3,
        secondsActive: 3600,
      },
    }),
    freeSpace: async () => 123_456_789_012,
    peerPortOpen: () => session.portOpen,
    async close() {
      calls.push({ method: 'close' })
    },
  }
  function update(ids: readonly number[], changes: Partial<RpcTorrent>) {
    for (const [index, torrent] of list.entries()) {
      if (ids.includes(torrent.id)) list[index] = { ...torrent, ...changes }
    }
  }
  return session
}
