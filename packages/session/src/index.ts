export {
  DataMissingError,
  MoveTargetExistsError,
  SessionClosedError,
  StateDirError,
  type StateDirErrorReason,
  TorrentNotFoundError,
  UnsafePathError,
} from './errors.js'
export {
  type AddOptions,
  openSession,
  type Session,
  type SessionEvents,
  type SessionInit,
  type SessionTorrent,
  type SessionTorrentStatus,
  type TorrentSource,
} from './session.js'
export {
  applySettingsChanges,
  defaultSettings,
  effectiveRateLimits,
  type SessionSettings,
  type SettingsChanges,
  type Switched,
} from './settings.js'
export { readSessionSettings, type SeedLimit, type TorrentRecord } from './state-dir.js'
