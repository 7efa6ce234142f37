// The parsed shape of a torrent and a magnet link: the contract every other package reads.

/** One file of the torrent, in the torrent's order. */
export interface TorrentFile {
  /**
   * Sanitised path components (DESIGN §6), never colliding with another file's. Multi-file: relative
   * to the directory `name`; single-file: `[name]`. Write to `join(dir, ...(multiFile ? [name] : []), ...path)`.
   */
  path: string[]
  /** The components as the torrent spelled them (UTF-8 decoded), for display and diagnostics. */
  originalPath: string[]
  length: number
  /** Byte offset of the file's first byte in the torrent's concatenated content. */
  offset: number
  /** BEP 47 padding file (`attr` contains `p`): part of the piece layout, never written to disk. */
  padding: boolean
}

/** A contiguous run of bytes inside one file. */
export interface FileSpan {
  fileIndex: number
  /** Offset inside that file. */
  fileOffset: number
  length: number
}

/** Maps pieces and byte ranges of the concatenated content onto files. */
export interface FileLayout {
  readonly pieceLength: number
  readonly pieceCount: number
  readonly totalLength: number
  /** Length of piece `index` (the last one may be shorter). */
  pieceLengthAt(index: number): number
  /** Files covering piece `index`, in order; zero-length files are never included. */
  spansForPiece(index: number): FileSpan[]
  /** Files covering `[offset, offset + length)` of the content. */
  spansForRange(offset: number, length: number): FileSpan[]
  /** Pieces that overlap file `fileIndex`: `[first, last]` inclusive, or `undefined` for an empty file. */
  piecesForFile(fileIndex: number): [first: number, last: number] | undefined
}

export interface Metainfo {
  /** v1 info hash, 40 lowercase hex digits: SHA-1 of the raw `info` bytes as found in the file. */
  infoHash: string
  infoHashBytes: Uint8Array
  /** The raw `info` dictionary bytes (served to peers for BEP 9). */
  infoBytes: Uint8Array
  /** Sanitised torrent name: the file name (single-file) or the root directory (multi-file). */
  name: string
  /** `announce`, if present. */
  announce: string | undefined
  /** BEP 12 tiers; when `announce-list` is absent, `[[announce]]` (or `[]` without any tracker). */
  announceList: string[][]
  private: boolean
  /** BEP 19 web seeds (`url-list`). */
  urlList: string[]
  comment: string | undefined
  createdBy: string | undefined
  creationDate: Date | undefined
  pieceLength: number
  pieceCount: number
  /** All piece hashes concatenated (20 bytes each). */
  pieces: Uint8Array
  /** Sum of all file lengths. */
  length: number
  /** `true` when the info dict has `files` (even if it lists one file). */
  multiFile: boolean
  files: TorrentFile[]
  layout: FileLayout
  /** The 20-byte SHA-1 expected for piece `index`. */
  pieceHash(index: number): Uint8Array
}

export interface MagnetLink {
  infoHash: string
  infoHashBytes: Uint8Array
  /** `dn` */
  name: string | undefined
  /** `tr`, in order, duplicates removed. */
  trackers: string[]
  /** `ws` (BEP 19 web seeds). */
  webSeeds: string[]
  /** `x.pe` peer addresses (`host:port`). */
  peers: string[]
}
