// The session's own settings, persisted in the state dir's `settings.json`: what every torrent
// follows unless it has its own (speed limits, seed limits, the download queue), the default download
// dir, and what the program that makes the client reads at start (peer port, DHT, PEX). A limit that
// is switched off keeps its value, as Transmission's settings do, so switching it on again restores it.
import { isAbsolute } from 'node:path'
import { type EncryptionPolicy, isEncryptionPolicy } from '@bt/client-core'

/** A value with an on/off switch (off: no limit, but the value is kept). */
export interface Switched<T> {
  readonly value: T
  readonly enabled: boolean
}

export interface SessionSettings {
  /** Absolute; where new torrents go unless `add` says otherwise. */
  readonly downloadDir: string
  /** Bytes per second, for the whole session. */
  readonly downloadLimit: Switched<number>
  readonly uploadLimit: Switched<number>
  /** "Turtle mode": when enabled these replace the limits above. Bytes per second. */
  readonly altSpeed: { readonly download: number; readonly upload: number; readonly enabled: boolean }
  /** Downloads running at once (off: every one runs). */
  readonly downloadQueue: Switched<number>
  /** The seed ratio torrents that follow the session stop at. */
  readonly seedRatio: Switched<number>
  /** Seconds of seeding without uploading a byte, for torrents that follow the session. */
  readonly seedIdleSeconds: Switched<number>
  /** Connections of the whole session, and of each torrent unless it has its own. */
  readonly peerLimitGlobal: number
  readonly peerLimitPerTorrent: number
  /** Torrents added without saying are started (else added stopped). */
  readonly startAddedTorrents: boolean
  /** Read by whoever makes the client, at its start: the BitTorrent listen port, DHT and PEX. */
  readonly peerPort: number
  readonly dhtEnabled: boolean
  readonly pexEnabled: boolean
  /** Message stream encryption (MSE/PE) of the client's connections, applied at once. */
  readonly encryption: EncryptionPolicy
}

export type SettingsChanges = { -readonly [K in keyof SessionSettings]?: SessionSettings[K] }

export function defaultSettings(downloadDir: string): SessionSettings {
  return {
    downloadDir,
    downloadLimit: { value: 100_000, enabled: false },
    uploadLimit: { value: 100_000, enabled: false },
    altSpeed: { download: 50_000, upload: 50_000, enabled: false },
    downloadQueue: { value: 5, enabled: true },
    seedRatio: { value: 2, enabled: false },
    seedIdleSeconds: { value: 30 * 60, enabled: false },
    peerLimitGlobal: 200,
    peerLimitPerTorrent: 50,
    startAddedTorrents: true,
    peerPort: 51413,
    dhtEnabled: true,
    pexEnabled: true,
    encryption: 'prefer',
  }
}

/** The byte rates the client should enforce under `settings` (0: unlimited). */
export function effectiveRateLimits(settings: SessionSettings): { download: number; upload: number } {
  if (settings.altSpeed.enabled)
    return { download: settings.altSpeed.download, upload: settings.altSpeed.upload }
  const rate = (limit: Switched<number>) => (limit.enabled ? limit.value : 0)
  return { download: rate(settings.downloadLimit), upload: rate(settings.uploadLimit) }
}

/**
 * `base` with `changes` applied, each checked; throws a RangeError naming the first bad field. Fields not
 * named in SessionSettings are ignored.
 */
export function applySettingsChanges(base: SessionSettings, changes: SettingsChanges): SessionSettings {
  const next: Record<string, unknown> = { ...base }
  for (const key of Object.keys(FIELD_CHECKS) as (keyof SessionSettings)[]) {
    if (!Object.hasOwn(changes, key) || changes[key] === undefined) continue
    const value = changes[key]
    if (!FIELD_CHECKS[key](value)) {
      throw new RangeError(`session: setting ${key} is invalid: ${JSON.stringify(value)}`)
    }
    next[key] = value
  }
  return next as unknown as SessionSettings
}

/**
 * Settings read back from `settings.json`: each valid field taken, each missing or invalid one left at
 * `base` (and named in `invalid`, so the caller can warn).
 */
export function settingsFromJson(
  base: SessionSettings,
  value: unknown,
): { settings: SessionSettings; invalid: string[] } {
  const invalid: string[] = []
  const next: Record<string, unknown> = { ...base }
  const fields = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  for (const key of Object.keys(FIELD_CHECKS) as (keyof SessionSettings)[]) {
    if (!Object.hasOwn(fields, key)) continue
    if (FIELD_CHECKS[key](fields[key])) next[key] = fields[key]
    else invalid.push(key)
  }
  return { settings: next as unknown as SessionSettings, invalid }
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
const isRatio = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isSwitched =
  (check: (value: unknown) => boolean) =>
  (value: unknown): boolean =>
    isObject(value) && check(value.value) && typeof value.enabled === 'boolean'
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean'

const FIELD_CHECKS: Readonly<Record<keyof SessionSettings, (value: unknown) => boolean>> = {
  downloadDir: (value) => typeof value === 'string' && isAbsolute(value) && !value.includes('\0'),
  downloadLimit: isSwitched(isCount),
  uploadLimit: isSwitched(isCount),
  altSpeed: (value) =>
    isObject(value) && isCount(value.download) && isCount(value.upload) && isBoolean(value.enabled),
  downloadQueue: isSwitched((value) => isCount(value) && value >= 1),
  seedRatio: isSwitched(isRatio),
  seedIdleSeconds: isSwitched((value) => isCount(value) && value >= 1),
  peerLimitGlobal: (value) => isCount(value) && value >= 1,
  peerLimitPerTorrent: (value) => isCount(value) && value >= 1,
  startAddedTorrents: isBoolean,
  peerPort: (value) => isCount(value) && value <= 65_535,
  dhtEnabled: isBoolean,
  pexEnabled: isBoolean,
  encryption: (value) => typeof value === 'string' && isEncryptionPolicy(value),
}
