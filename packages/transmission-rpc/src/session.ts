// The contract between the RPC server and whatever owns the torrents. The server knows Transmission's
// wire format and nothing of BitTorrent; a session knows torrents and nothing of HTTP or JSON.
//
// Sizes are bytes, rates bytes per second, dates unix seconds (0 = never), speed limits KB/s (1000
// bytes, as Transmission 3.00's `units.speed-bytes`). The server rounds every value Transmission sends
// as an integer, so a session may hand over fractional rates. Ids are small integers from 1 that a
// session never reuses while it runs; a hash string works wherever an id does (the server resolves it).

/** Transmission's `tr_torrent_activity`. */
export const RpcStatus = {
  stopped: 0,
  /** Queued to verify its data. */
  checkWait: 1,
  checking: 2,
  /** Queued to download (the download queue is full). */
  downloadWait: 3,
  downloading: 4,
  /** Queued to seed. */
  seedWait: 5,
  seeding: 6,
} as const
export type RpcStatus = (typeof RpcStatus)[keyof typeof RpcStatus]

/** Transmission's `tr_stat_errtype`: what `errorString` is about. */
export const RpcErrorKind = {
  none: 0,
  /** The tracker answered with a warning; the torrent still works. */
  trackerWarning: 1,
  /** The tracker answered with an error. */
  trackerError: 2,
  /** A local problem (disk full, data missing): the torrent was stopped. */
  localError: 3,
} as const
export type RpcErrorKind = (typeof RpcErrorKind)[keyof typeof RpcErrorKind]

/** Transmission's `tr_ratiolimit` / `tr_idlelimit` mode: 0 = follow the session, 1 = this torrent's own limit, 2 = unlimited. */
export type RpcLimitMode = 0 | 1 | 2

/** Transmission's `tr_priority_t`: -1 low, 0 normal, 1 high. */
export type RpcPriority = -1 | 0 | 1

/** One file of a torrent, in the torrent's file order (the index is the file's id in `torrent-set`). */
export interface RpcFile {
  /** The path relative to `downloadDir`, `/`-separated, starting with the torrent's name for multi-file torrents (as Transmission). */
  readonly name: string
  readonly length: number
  /** Verified bytes of this file. */
  readonly bytesCompleted: number
  readonly wanted: boolean
  readonly priority: RpcPriority
}

/** A connected peer (`peers` in `torrent-get`). */
export interface RpcPeer {
  readonly address: string
  readonly port: number
  readonly clientName: string
  /** Fraction 0..1 of the torrent the peer has. */
  readonly progress: number
  /** Bytes per second we receive from this peer. */
  readonly rateToClient: number
  /** Bytes per second we send to this peer. */
  readonly rateToPeer: number
  readonly isEncrypted: boolean
  readonly isIncoming: boolean
  /** Transmission's flag letters (`D` downloading from, `U` uploading to, `E` encrypted, `I` incoming, …). */
  readonly flagStr: string
}

/** One tracker URL of a torrent, with what the session knows of its last announce and scrape. */
export interface RpcTracker {
  /** Unique within the torrent. */
  readonly id: number
  readonly announce: string
  /** The scrape URL, `''` if the tracker has none. */
  readonly scrape: string
  /** 0-based tier (BEP 12). */
  readonly tier: number
  readonly lastAnnounceTime?: number
  readonly lastAnnounceSucceeded?: boolean
  /** The tracker's answer or our error (`'Success'`, `'Connection failed'`, …). */
  readonly lastAnnounceResult?: string
  readonly lastAnnouncePeerCount?: number
  readonly nextAnnounceTime?: number
  readonly lastScrapeTime?: number
  /** -1 when unknown. */
  readonly seederCount?: number
  /** -1 when unknown. */
  readonly leecherCount?: number
  /** -1 when unknown. */
  readonly downloadCount?: number
}

/** A torrent as Transmission's `torrent-get` describes it. Optional fields default as noted. */
export interface RpcTorrent {
  /** Small integer from 1, never reused while the session runs. */
  readonly id: number
  /** The info hash, 40 lower-case hex digits (v1). */
  readonly hashString: string
  readonly name: string
  readonly status: RpcStatus
  readonly error: RpcErrorKind
  /** `''` when `error` is `none`. */
  readonly errorString: string
  /** Bytes of every file; 0 while a magnet's metadata is missing. */
  readonly totalSize: number
  /** Bytes of the wanted files. */
  readonly sizeWhenDone: number
  /** Wanted bytes not yet verified. */
  readonly leftUntilDone: number
  /** Verified bytes. */
  readonly haveValid: number
  /** Downloaded bytes not yet verified; default 0. */
  readonly haveUnchecked?: number
  /** Bytes we could still get from connected peers; default 0. */
  readonly desiredAvailable?: number
  readonly downloadedEver: number
  readonly uploadedEver: number
  /** Bytes thrown away because their piece failed its hash; default 0. */
  readonly corruptEver?: number
  readonly rateDownload: number
  readonly rateUpload: number
  readonly peersConnected: number
  /** Connected peers we upload to. */
  readonly peersGettingFromUs: number
  /** Connected peers we download from. */
  readonly peersSendingToUs: number
  /** Default `[]`. */
  readonly peers?: readonly RpcPeer[]
  /** Web seeds we are downloading from; default 0. */
  readonly webseedsSendingToUs?: number
  readonly addedDate: number
  /** When the wanted files were complete; 0 if never. */
  readonly doneDate: number
  /** When data last moved. */
  readonly activityDate: number
  /** When it was last started; default 0. */
  readonly startDate?: number
  /** When the session last changed it (started, stopped, settings): with the other dates it decides `recently-active`; default 0. */
  readonly editDate?: number
  readonly secondsDownloading?: number
  readonly secondsSeeding?: number
  /** Seconds until done (or, seeding, until the ratio limit); -1 not applicable, -2 unknown. */
  readonly eta: number
  readonly files: readonly RpcFile[]
  readonly trackers: readonly RpcTracker[]
  readonly webseeds?: readonly string[]
  /** 0 while a magnet's metadata is missing. */
  readonly pieceCount: number
  readonly pieceSize: number
  /** The verified pieces, a bitfield (piece 0 = most significant bit of byte 0); default none. */
  readonly pieces?: Uint8Array
  /** 0-based position in the queue. */
  readonly queuePosition: number
  readonly magnetLink: string
  /** 0..1; 1 once the metadata is known. */
  readonly metadataPercentComplete: number
  /** 0..1 while `status` is `checking`. */
  readonly recheckProgress: number
  readonly seedRatioLimit: number
  readonly seedRatioMode: RpcLimitMode
  /** Minutes of seeding without a peer before it stops; default 30. */
  readonly seedIdleLimit?: number
  readonly seedIdleMode?: RpcLimitMode
  /** Absolute directory the files live in. */
  readonly downloadDir: string
  /** Finished seeding (its ratio or idle limit was reached), as Transmission's `isFinished`. */
  readonly isFinished: boolean
  readonly isPrivate?: boolean
  readonly isStalled?: boolean
  readonly comment?: string
  readonly creator?: string
  readonly dateCreated?: number
  /** KB/s; defaults 0 / false. */
  readonly downloadLimit?: number
  readonly downloadLimited?: boolean
  readonly uploadLimit?: number
  readonly uploadLimited?: boolean
  /** Default true. */
  readonly honorsSessionLimits?: boolean
  readonly bandwidthPriority?: RpcPriority
  /** Most peers for this torrent; default 50. */
  readonly peerLimit?: number
}

export interface RpcAddRequest {
  /** The bytes of a `.torrent` (`metainfo`, or fetched from an http(s) `filename`). */
  readonly metainfo?: Uint8Array
  readonly magnet?: string
  /** An absolute path to a `.torrent` on the session's machine (`filename`). */
  readonly path?: string
  /** Absolute; default the session's `downloadDir`. */
  readonly downloadDir?: string
  /** Default: the session's `startAddedTorrents` setting, inverted. */
  readonly paused?: boolean
}

export interface RpcAddResult {
  /** `'duplicate'`: the torrent was already in the session, which is unchanged. */
  readonly kind: 'added' | 'duplicate'
  readonly torrent: RpcTorrent
}

/** What `torrent-set` may change (every field optional; absent = unchanged). */
export interface RpcTorrentChanges {
  readonly downloadLimit?: number
  readonly downloadLimited?: boolean
  readonly uploadLimit?: number
  readonly uploadLimited?: boolean
  readonly honorsSessionLimits?: boolean
  readonly bandwidthPriority?: RpcPriority
  readonly peerLimit?: number
  readonly seedRatioLimit?: number
  readonly seedRatioMode?: RpcLimitMode
  readonly seedIdleLimit?: number
  readonly seedIdleMode?: RpcLimitMode
  readonly queuePosition?: number
  /** File indices to download / skip; an empty list means every file (as Transmission). */
  readonly filesWanted?: readonly number[]
  readonly filesUnwanted?: readonly number[]
  /** File indices; an empty list means every file (as Transmission). */
  readonly priorityHigh?: readonly number[]
  readonly priorityNormal?: readonly number[]
  readonly priorityLow?: readonly number[]
  /** Announce URLs to add. */
  readonly trackerAdd?: readonly string[]
  /** Tracker ids (`RpcTracker.id`) to remove. */
  readonly trackerRemove?: readonly number[]
}

/** Session settings, named after Transmission's `session-get` keys (see `SESSION_FIELDS`). */
export interface RpcSettings {
  readonly downloadDir: string
  readonly incompleteDir: string
  readonly incompleteDirEnabled: boolean
  readonly configDir: string
  readonly peerPort: number
  readonly peerPortRandomOnStart: boolean
  readonly portForwardingEnabled: boolean
  readonly peerLimitGlobal: number
  readonly peerLimitPerTorrent: number
  readonly dhtEnabled: boolean
  readonly pexEnabled: boolean
  readonly lpdEnabled: boolean
  readonly utpEnabled: boolean
  readonly encryption: 'required' | 'preferred' | 'tolerated'
  /** KB/s. */
  readonly speedLimitDown: number
  readonly speedLimitDownEnabled: boolean
  readonly speedLimitUp: number
  readonly speedLimitUpEnabled: boolean
  readonly altSpeedDown: number
  readonly altSpeedUp: number
  readonly altSpeedEnabled: boolean
  readonly altSpeedTimeEnabled: boolean
  /** Minutes after midnight. */
  readonly altSpeedTimeBegin: number
  readonly altSpeedTimeEnd: number
  /** Bit mask of days, Sunday = 1. */
  readonly altSpeedTimeDay: number
  readonly seedRatioLimit: number
  readonly seedRatioLimited: boolean
  /** Minutes. */
  readonly idleSeedingLimit: number
  readonly idleSeedingLimitEnabled: boolean
  readonly downloadQueueEnabled: boolean
  readonly downloadQueueSize: number
  readonly seedQueueEnabled: boolean
  readonly seedQueueSize: number
  readonly queueStalledEnabled: boolean
  readonly queueStalledMinutes: number
  readonly startAddedTorrents: boolean
  readonly trashOriginalTorrentFiles: boolean
  readonly renamePartialFiles: boolean
  readonly cacheSizeMb: number
  readonly blocklistEnabled: boolean
  readonly blocklistUrl: string
  readonly blocklistSize: number
  readonly scriptTorrentDoneEnabled: boolean
  readonly scriptTorrentDoneFilename: string
}

/** Transfer totals of `session-stats`. */
export interface RpcTransferStats {
  readonly uploadedBytes: number
  readonly downloadedBytes: number
  readonly filesAdded: number
  readonly sessionCount: number
  readonly secondsActive: number
}

export interface RpcSessionStats {
  /** Since this session started. */
  readonly current: RpcTransferStats
  /** Over every run of the session (persisted). */
  readonly cumulative: RpcTransferStats
}

export type RpcQueueMove = 'top' | 'up' | 'down' | 'bottom'

/**
 * What the server drives. Methods taking `ids` receive existing ids only, already resolved from
 * numbers, hashes or `recently-active`. A method that throws (or rejects) answers the RPC with the
 * error's message as its `result`; the server keeps running.
 */
export interface RpcSession {
  /** Every torrent, in id order or any order (the server sorts by id). */
  torrents(): readonly RpcTorrent[]
  /** Ids removed at or after `sinceSeconds` (unix seconds), for `recently-active`'s `removed`. */
  removedSince(sinceSeconds: number): readonly number[]
  add(request: RpcAddRequest): Promise<RpcAddResult>
  /** `now`: skip the queue (`torrent-start-now`). */
  start(ids: readonly number[], now: boolean): Promise<void>
  stop(ids: readonly number[]): Promise<void>
  verify(ids: readonly number[]): Promise<void>
  reannounce(ids: readonly number[]): Promise<void>
  remove(ids: readonly number[], options: { readonly deleteData: boolean }): Promise<void>
  set(ids: readonly number[], changes: RpcTorrentChanges): Promise<void>
  /** `move`: move the files there; otherwise look for them there. `location` is absolute. */
  setLocation(ids: readonly number[], location: string, move: boolean): Promise<void>
  /**
   * Renames the file or folder at `path` (as the torrent's `files` name it, `/`-separated, the torrent's
   * folder first) to `name`, a single path component; the session refuses anything else.
   */
  renamePath(id: number, path: string, name: string): Promise<void>
  queueMove(ids: readonly number[], move: RpcQueueMove): Promise<void>
  settings(): RpcSettings
  /** Only the fields the client sent, each already type-checked. */
  setSettings(changes: Partial<RpcSettings>): Promise<void>
  stats(): RpcSessionStats
  /** Free bytes at `path` (absolute). */
  freeSpace(path: string): Promise<number>
  /** Whether peers reach our peer port: true once one connected in, false if known closed, undefined if unknown. */
  peerPortOpen(): boolean | undefined
  /** `session-close`: called after its answer is sent. */
  close(): Promise<void>
  /** The `version` string of `session-get` (e.g. `'bt 0.1.0'`). */
  readonly version: string
}
