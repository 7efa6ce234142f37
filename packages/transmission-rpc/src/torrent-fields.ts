// `torrent-get`'s fields: each Transmission field name and how it is read off an RpcTorrent. Every
// value Transmission sends as an integer is rounded here, because transmission-remote 3.00 silently
// drops a `-l` row whose rate or size is `12.5`. Unknown field names are skipped, as Transmission does.
import type { RpcTorrent } from './session.js'

type FieldValue = (torrent: RpcTorrent) => unknown

/** Transmission's `TR_RATIO_NA` and `TR_RATIO_INF`. */
const RATIO_NA = -1
const RATIO_INF = -2

/** A finite integer (Transmission's `int64`); NaN and infinities become 0. */
export function int(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0
}

/** A finite double; NaN and infinities become 0 (JSON has neither). */
function real(value: number): number {
  return Number.isFinite(value) ? value : 0
}

/** Uploaded over downloaded, as `tr_getRatio`: -1 with nothing either way, -2 uploaded with nothing downloaded. */
export function uploadRatio(torrent: RpcTorrent): number {
  const downloaded = torrent.downloadedEver > 0 ? torrent.downloadedEver : torrent.haveValid
  if (downloaded > 0) return real(torrent.uploadedEver / downloaded)
  return torrent.uploadedEver > 0 ? RATIO_INF : RATIO_NA
}

/** Fraction 0..1 of the wanted bytes that are verified. */
export function percentDone(torrent: RpcTorrent): number {
  if (torrent.sizeWhenDone <= 0) return torrent.metadataPercentComplete >= 1 ? 1 : 0
  return clamp01((torrent.sizeWhenDone - torrent.leftUntilDone) / torrent.sizeWhenDone)
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0
}

const integer =
  (read: (torrent: RpcTorrent) => number | undefined, fallback = 0): FieldValue =>
  (torrent) =>
    int(read(torrent) ?? fallback)

const TORRENT_FIELDS: Readonly<Record<string, FieldValue>> = {
  activityDate: integer((t) => t.activityDate),
  addedDate: integer((t) => t.addedDate),
  bandwidthPriority: integer((t) => t.bandwidthPriority),
  comment: (t) => t.comment ?? '',
  corruptEver: integer((t) => t.corruptEver),
  creator: (t) => t.creator ?? '',
  dateCreated: integer((t) => t.dateCreated),
  desiredAvailable: integer((t) => t.desiredAvailable),
  doneDate: integer((t) => t.doneDate),
  downloadDir: (t) => t.downloadDir,
  downloadedEver: integer((t) => t.downloadedEver),
  downloadLimit: integer((t) => t.downloadLimit),
  downloadLimited: (t) => t.downloadLimited ?? false,
  editDate: integer((t) => t.editDate),
  error: integer((t) => t.error),
  errorString: (t) => t.errorString,
  eta: integer((t) => t.eta),
  etaIdle: () => -1,
  files: (t) =>
    t.files.map((f) => ({ bytesCompleted: int(f.bytesCompleted), length: int(f.length), name: f.name })),
  fileStats: (t) =>
    t.files.map((f) => ({ bytesCompleted: int(f.bytesCompleted), priority: f.priority, wanted: f.wanted })),
  hashString: (t) => t.hashString,
  haveUnchecked: integer((t) => t.haveUnchecked),
  haveValid: integer((t) => t.haveValid),
  honorsSessionLimits: (t) => t.honorsSessionLimits ?? true,
  id: (t) => t.id,
  isFinished: (t) => t.isFinished,
  isPrivate: (t) => t.isPrivate ?? false,
  isStalled: (t) => t.isStalled ?? false,
  leftUntilDone: integer((t) => t.leftUntilDone),
  magnetLink: (t) => t.magnetLink,
  manualAnnounceTime: () => -1,
  maxConnectedPeers: integer((t) => t.peerLimit, 50),
  metadataPercentComplete: (t) => clamp01(t.metadataPercentComplete),
  name: (t) => t.name,
  'peer-limit': integer((t) => t.peerLimit, 50),
  peers: (t) =>
    (t.peers ?? []).map((p) => ({
      address: p.address,
      clientIsChoked: false,
      clientIsInterested: false,
      clientName: p.clientName,
      flagStr: p.flagStr,
      isDownloadingFrom: p.rateToClient > 0,
      isEncrypted: p.isEncrypted,
      isIncoming: p.isIncoming,
      isUTP: false,
      isUploadingTo: p.rateToPeer > 0,
      peerIsChoked: false,
      peerIsInterested: false,
      port: int(p.port),
      progress: clamp01(p.progress),
      rateToClient: int(p.rateToClient),
      rateToPeer: int(p.rateToPeer),
    })),
  peersConnected: integer((t) => t.peersConnected),
  peersFrom: (t) => ({
    fromCache: 0,
    fromDht: 0,
    fromIncoming: 0,
    fromLpd: 0,
    fromLtep: 0,
    fromPex: 0,
    fromTracker: int(t.peersConnected),
  }),
  peersGettingFromUs: integer((t) => t.peersGettingFromUs),
  peersSendingToUs: integer((t) => t.peersSendingToUs),
  percentDone: percentDone,
  pieces: (t) => (t.pieces === undefined ? '' : Buffer.from(t.pieces).toString('base64')),
  pieceCount: integer((t) => t.pieceCount),
  pieceSize: integer((t) => t.pieceSize),
  priorities: (t) => t.files.map((f) => f.priority),
  queuePosition: integer((t) => t.queuePosition),
  rateDownload: integer((t) => t.rateDownload),
  rateUpload: integer((t) => t.rateUpload),
  recheckProgress: (t) => clamp01(t.recheckProgress),
  secondsDownloading: integer((t) => t.secondsDownloading),
  secondsSeeding: integer((t) => t.secondsSeeding),
  seedIdleLimit: integer((t) => t.seedIdleLimit, 30),
  seedIdleMode: integer((t) => t.seedIdleMode),
  seedRatioLimit: (t) => real(t.seedRatioLimit),
  seedRatioMode: integer((t) => t.seedRatioMode),
  sizeWhenDone: integer((t) => t.sizeWhenDone),
  startDate: integer((t) => t.startDate),
  status: integer((t) => t.status),
  torrentFile: () => '',
  totalSize: integer((t) => t.totalSize),
  trackers: (t) =>
    t.trackers.map((r) => ({ announce: r.announce, id: int(r.id), scrape: r.scrape, tier: int(r.tier) })),
  trackerStats: (t) =>
    t.trackers.map((r) => ({
      announce: r.announce,
      announceState: 0,
      downloadCount: int(r.downloadCount ?? -1),
      hasAnnounced: r.lastAnnounceTime !== undefined && r.lastAnnounceTime > 0,
      hasScraped: r.lastScrapeTime !== undefined && r.lastScrapeTime > 0,
      host: trackerHost(r.announce),
      id: int(r.id),
      isBackup: false,
      lastAnnouncePeerCount: int(r.lastAnnouncePeerCount ?? 0),
      lastAnnounceResult: r.lastAnnounceResult ?? '',
      lastAnnounceStartTime: int(r.lastAnnounceTime ?? 0),
      lastAnnounceSucceeded: r.lastAnnounceSucceeded ?? false,
      lastAnnounceTime: int(r.lastAnnounceTime ?? 0),
      lastAnnounceTimedOut: false,
      lastScrapeResult: '',
      lastScrapeStartTime: int(r.lastScrapeTime ?? 0),
      lastScrapeSucceeded: r.lastScrapeTime !== undefined && r.lastScrapeTime > 0,
      lastScrapeTime: int(r.lastScrapeTime ?? 0),
      lastScrapeTimedOut: false,
      leecherCount: int(r.leecherCount ?? -1),
      nextAnnounceTime: int(r.nextAnnounceTime ?? 0),
      nextScrapeTime: 0,
      scrape: r.scrape,
      scrapeState: 0,
      seederCount: int(r.seederCount ?? -1),
      tier: int(r.tier),
    })),
  uploadedEver: integer((t) => t.uploadedEver),
  uploadLimit: integer((t) => t.uploadLimit),
  uploadLimited: (t) => t.uploadLimited ?? false,
  uploadRatio: uploadRatio,
  wanted: (t) => t.files.map((f) => (f.wanted ? 1 : 0)),
  webseeds: (t) => [...(t.webseeds ?? [])],
  webseedsSendingToUs: integer((t) => t.webseedsSendingToUs),
}

/** Every field name `torrent-get` knows. */
export const TORRENT_FIELD_NAMES: readonly string[] = Object.keys(TORRENT_FIELDS)

/** The requested fields Transmission knows, in the order asked, each once. */
export function knownFields(requested: readonly string[]): string[] {
  return [...new Set(requested.filter((name) => Object.hasOwn(TORRENT_FIELDS, name)))]
}

/** One torrent as a `torrent-get` object of `fields` (which must come from `knownFields`). */
export function torrentObject(torrent: RpcTorrent, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null)
  for (const name of fields) out[name] = (TORRENT_FIELDS[name] as FieldValue)(torrent)
  return out
}

/** One torrent as a `format: "table"` row: the values of `fields` in order. */
export function torrentRow(torrent: RpcTorrent, fields: readonly string[]): unknown[] {
  return fields.map((name) => (TORRENT_FIELDS[name] as FieldValue)(torrent))
}

function trackerHost(announce: string): string {
  try {
    const url = new URL(announce)
    return `${url.protocol}//${url.host}`
  } catch {
    return announce
  }
}
