export {
  DataMissingError,
  SessionClosedError,
  StateDirError,
  type StateDirErrorReason,
  TorrentNotFoundError,
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
export type { TorrentRecord } from './state-dir.js'
