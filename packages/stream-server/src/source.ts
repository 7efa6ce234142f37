// The contract between the HTTP side and whatever holds the bytes (in `bt stream`, a torrent in
// @bt/client-core). The server knows nothing of pieces: it asks for byte ranges and writes what comes.

export interface StreamFile {
  /** 0-based, as `bt info` numbers files. */
  readonly index: number
  /** The file's path inside the torrent, '/'-separated (display text; may contain any Unicode). */
  readonly path: string
  readonly length: number
}

export interface StreamSource {
  readonly name: string
  readonly files: readonly StreamFile[]
  /**
   * Bytes [start, end) of file `index`, in order, each chunk only once its piece is verified (the
   * source waits for pieces and moves its download priority to follow the reader). Ends early and
   * cleanly when `signal` aborts (client gone, seek). Rejects with an error if the torrent stops.
   */
  read(index: number, start: number, end: number, options: { signal: AbortSignal }): AsyncIterable<Uint8Array>
}
