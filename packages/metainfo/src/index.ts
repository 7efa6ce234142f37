export {
  type CreatedTorrent,
  CreateTorrentError,
  type CreateTorrentErrorCode,
  type CreateTorrentFile,
  type CreateTorrentInput,
  type CreateTorrentOptions,
  createTorrent,
} from './create-torrent.js'
export {
  InvalidInfoHashError,
  InvalidMagnetError,
  InvalidTorrentError,
  UnsafePathError,
  type UnsupportedFeature,
  UnsupportedTorrentError,
} from './errors.js'
export { createFileLayout } from './file-layout.js'
export { infoHashToHex, parseInfoHash } from './info-hash.js'
export { type MagnetInput, parseMagnet, toMagnet } from './magnet.js'
export {
  DEFAULT_MAX_FILES,
  MAX_PIECE_LENGTH,
  type ParseInfoDictOptions,
  type ParseTorrentOptions,
  parseInfoDict,
  parseTorrent,
} from './parse-torrent.js'
export { choosePieceLength } from './piece-length.js'
export { MAX_COMPONENT_BYTES, sanitizePath, sanitizePathComponent } from './safe-path.js'
export type { FileLayout, FileSpan, MagnetLink, Metainfo, TorrentFile } from './types.js'
