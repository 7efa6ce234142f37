// `session-get` / `session-set`: Transmission's key for each RpcSettings field and the JSON type it
// has on the wire. `session-set` accepts a key only with that type; unknown and read-only keys are
// ignored, as Transmission does.
import { isAbsolute } from 'node:path'
import type { RpcSettings } from './session.js'
import { int } from './torrent-fields.js'

type Kind = 'integer' | 'number' | 'boolean' | 'string' | 'path' | 'encryption'

export const SESSION_FIELDS: ReadonlyArray<readonly [keyof RpcSettings, string, Kind]> = [
  ['altSpeedDown', 'alt-speed-down', 'integer'],
  ['altSpeedEnabled', 'alt-speed-enabled', 'boolean'],
  ['altSpeedTimeBegin', 'alt-speed-time-begin', 'integer'],
  ['altSpeedTimeDay', 'alt-speed-time-day', 'integer'],
  ['altSpeedTimeEnabled', 'alt-speed-time-enabled', 'boolean'],
  ['altSpeedTimeEnd', 'alt-speed-time-end', 'integer'],
  ['altSpeedUp', 'alt-speed-up', 'integer'],
  ['blocklistEnabled', 'blocklist-enabled', 'boolean'],
  ['blocklistSize', 'blocklist-size', 'integer'],
  ['blocklistUrl', 'blocklist-url', 'string'],
  ['cacheSizeMb', 'cache-size-mb', 'integer'],
  ['configDir', 'config-dir', 'string'],
  ['dhtEnabled', 'dht-enabled', 'boolean'],
  ['downloadDir', 'download-dir', 'path'],
  ['downloadQueueEnabled', 'download-queue-enabled', 'boolean'],
  ['downloadQueueSize', 'download-queue-size', 'integer'],
  ['encryption', 'encryption', 'encryption'],
  ['idleSeedingLimit', 'idle-seeding-limit', 'integer'],
  ['idleSeedingLimitEnabled', 'idle-seeding-limit-enabled', 'boolean'],
  ['incompleteDir', 'incomplete-dir', 'path'],
  ['incompleteDirEnabled', 'incomplete-dir-enabled', 'boolean'],
  ['lpdEnabled', 'lpd-enabled', 'boolean'],
  ['peerLimitGlobal', 'peer-limit-global', 'integer'],
  ['peerLimitPerTorrent', 'peer-limit-per-torrent', 'integer'],
  ['peerPort', 'peer-port', 'integer'],
  ['peerPortRandomOnStart', 'peer-port-random-on-start', 'boolean'],
  ['pexEnabled', 'pex-enabled', 'boolean'],
  ['portForwardingEnabled', 'port-forwarding-enabled', 'boolean'],
  ['queueStalledEnabled', 'queue-stalled-enabled', 'boolean'],
  ['queueStalledMinutes', 'queue-stalled-minutes', 'integer'],
  ['renamePartialFiles', 'rename-partial-files', 'boolean'],
  ['scriptTorrentDoneEnabled', 'script-torrent-done-enabled', 'boolean'],
  ['scriptTorrentDoneFilename', 'script-torrent-done-filename', 'path'],
  ['seedQueueEnabled', 'seed-queue-enabled', 'boolean'],
  ['seedQueueSize', 'seed-queue-size', 'integer'],
  ['seedRatioLimit', 'seedRatioLimit', 'number'],
  ['seedRatioLimited', 'seedRatioLimited', 'boolean'],
  ['speedLimitDown', 'speed-limit-down', 'integer'],
  ['speedLimitDownEnabled', 'speed-limit-down-enabled', 'boolean'],
  ['speedLimitUp', 'speed-limit-up', 'integer'],
  ['speedLimitUpEnabled', 'speed-limit-up-enabled', 'boolean'],
  ['startAddedTorrents', 'start-added-torrents', 'boolean'],
  ['trashOriginalTorrentFiles', 'trash-original-torrent-files', 'boolean'],
  ['utpEnabled', 'utp-enabled', 'boolean'],
]

/** Keys `session-set` never changes (they describe the session rather than configure it). */
const READ_ONLY = new Set<keyof RpcSettings>(['configDir', 'blocklistSize'])

export const RPC_VERSION = 16
export const RPC_VERSION_MINIMUM = 14

/** The `session-get` arguments, restricted to `fields` when the client names some. */
export function sessionObject(
  settings: RpcSettings,
  extra: { version: string; sessionId: string; downloadDirFreeSpace: number },
  fields?: readonly string[],
): Record<string, unknown> {
  const all: Record<string, unknown> = Object.create(null)
  for (const [key, name, kind] of SESSION_FIELDS) {
    const value = settings[key]
    all[name] = kind === 'integer' && typeof value === 'number' ? int(value) : value
  }
  all['rpc-version'] = RPC_VERSION
  all['rpc-version-minimum'] = RPC_VERSION_MINIMUM
  all.version = extra.version
  all['session-id'] = extra.sessionId
  all['download-dir-free-space'] = extra.downloadDirFreeSpace
  all.units = {
    'memory-bytes': 1024,
    'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
    'size-bytes': 1000,
    'size-units': ['kB', 'MB', 'GB', 'TB'],
    'speed-bytes': 1000,
    'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
  }
  if (fields === undefined) return all
  const some: Record<string, unknown> = Object.create(null)
  for (const name of fields) if (Object.hasOwn(all, name)) some[name] = all[name]
  return some
}

/** The settings a `session-set` asks for; a known key of the wrong type is an error naming it. */
export function sessionChanges(
  args: Record<string, unknown>,
): { ok: true; changes: Partial<RpcSettings> } | { ok: false; error: string } {
  const changes: Record<string, unknown> = {}
  for (const [key, name, kind] of SESSION_FIELDS) {
    if (!Object.hasOwn(args, name) || READ_ONLY.has(key)) continue
    const value = args[name]
    if (!hasKind(value, kind)) return { ok: false, error: `${name} must be ${describe(kind)}` }
    changes[key] = value
  }
  return { ok: true, changes: changes as Partial<RpcSettings> }
}

function hasKind(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0
    case 'boolean':
      return typeof value === 'boolean'
    case 'string':
      return typeof value === 'string'
    case 'path':
      return typeof value === 'string' && isAbsolute(value) && !value.includes('\0')
    case 'encryption':
      return value === 'required' || value === 'preferred' || value === 'tolerated'
  }
}

function describe(kind: Kind): string {
  switch (kind) {
    case 'integer':
      return 'a non-negative integer'
    case 'number':
      return 'a non-negative number'
    case 'boolean':
      return 'a boolean'
    case 'string':
      return 'a string'
    case 'path':
      return 'an absolute path'
    case 'encryption':
      return '"required", "preferred" or "tolerated"'
  }
}
