// The package's error classes, one per condition family. Callers match on `err.name`, which survives
// duplicated installs; the structured fields say where the problem is.

/**
 * The bytes are not a usable v1 torrent: not bencode, a missing or mistyped field, inconsistent sizes.
 * `field` names the offending field as a path into the torrent, e.g. `info.files[3].length`
 * (`torrent` for the whole file). A bencode syntax error is the `cause`.
 */
export class InvalidTorrentError extends Error {
  override readonly name = 'InvalidTorrentError'
  readonly field: string

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`metainfo: invalid torrent: ${field}: ${problem}`, options)
    this.field = field
  }
}

/**
 * A file path in the torrent cannot be made safe to write (DESIGN §6): nothing usable is left after
 * dropping `.`, `..` and empty components. `fileIndex` is the file's index in `info.files`.
 */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError'
  readonly fileIndex: number | undefined
  /** The components as the torrent gave them. */
  readonly path: readonly string[]

  constructor(path: readonly string[], problem: string, fileIndex?: number) {
    const where = fileIndex === undefined ? '' : ` (file ${fileIndex})`
    super(`metainfo: unsafe path ${JSON.stringify(path)}${where}: ${problem}`)
    this.path = path
    this.fileIndex = fileIndex
  }
}

export type UnsupportedFeature =
  /** BitTorrent v2 without the v1 `pieces` (BEP 52): there is no v1 info hash to join a swarm with. */
  | 'v2-only'
  /** A `meta version` this package does not know. */
  | 'meta-version'

/** A well-formed torrent or magnet link that uses something this package does not implement. */
export class UnsupportedTorrentError extends Error {
  override readonly name = 'UnsupportedTorrentError'
  readonly feature: UnsupportedFeature

  constructor(feature: UnsupportedFeature, problem: string) {
    super(`metainfo: unsupported torrent: ${problem}`)
    this.feature = feature
  }
}

/** A magnet URI that cannot be used. `field` is the parameter at fault (`xt`, …) or `uri` for the whole. */
export class InvalidMagnetError extends Error {
  override readonly name = 'InvalidMagnetError'
  readonly field: string

  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`metainfo: invalid magnet link: ${field}: ${problem}`, options)
    this.field = field
  }
}

/** Text that is neither 40 hex digits nor 32 base32 characters. */
export class InvalidInfoHashError extends Error {
  override readonly name = 'InvalidInfoHashError'
  readonly input: string

  constructor(input: string) {
    const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input
    super(
      `metainfo: invalid info hash ${JSON.stringify(shown)}: expected 40 hex digits or 32 base32 characters`,
    )
    this.input = input
  }
}
