export type { FileLayout, FileSpan, MagnetLink, Metainfo, TorrentFile } from './types.js'
