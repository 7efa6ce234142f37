// Block geometry, how many requests to keep in flight per peer, and when a peer counts as snubbed.
// Pure functions: the engine feeds them measured rates and timestamps and acts on the answers.

/** Bytes per request: every client accepts 16 KiB and many reject more (BEP 3 convention). */
export const BLOCK_SIZE = 16 * 1024

/** Number of blocks in a piece of `pieceLength` bytes (the last block may be shorter). */
export function blockCount(pieceLength: number): number {
  return Math.ceil(pieceLength / BLOCK_SIZE)
}

/** Length of block `blockIndex` in a piece of `pieceLength` bytes. */
export function blockLength(pieceLength: number, blockIndex: number): number {
  return Math.min(BLOCK_SIZE, pieceLength - blockIndex * BLOCK_SIZE)
}

export interface QueueDepthOptions {
  /** Seconds of data to keep requested from the peer. Default 3. */
  targetSeconds?: number
  /** Floor, used before any rate is measured. Default 4. */
  min?: number
  /** Ceiling: pass `min(500, reqq)` when the peer announced `reqq` (BEP 10). Default 500. */
  max?: number
}

/**
 * How many block requests to keep outstanding at a peer delivering `bytesPerSecond`:
 * `clamp(ceil(bytesPerSecond × targetSeconds / BLOCK_SIZE), min, max)` (`max` wins over `min`).
 *
 * A queue shorter than rate × round-trip time starves the link, so the queue follows the rate rather than
 * a fixed 1–5. It starts itself: with {@link RateMeter}'s one-second floor on its time span, every block
 * received in the first second adds `targetSeconds` blocks of depth, so the queue grows about
 * (1 + targetSeconds)× per round trip (a TCP-like slow start) until the measured rate settles. A snubbed
 * peer (see {@link isSnubbed}) gets depth 1 instead.
 */
export function queueDepth(bytesPerSecond: number, options: QueueDepthOptions = {}): number {
  const targetSeconds = options.targetSeconds ?? 3
  const min = options.min ?? 4
  const max = Math.max(1, options.max ?? 500)
  const wanted = bytesPerSecond > 0 ? Math.ceil((bytesPerSecond * targetSeconds) / BLOCK_SIZE) : 0
  return Math.min(max, Math.max(min, wanted))
}

export interface SnubInput {
  now: number
  /** When the peer last delivered a block, if ever. */
  lastBlockAt: number | undefined
  /** When the oldest request still outstanding at the peer was sent (`PiecePicker.oldestRequestAt`). */
  oldestRequestAt: number | undefined
}

/**
 * A peer is snubbed when it owes us blocks and has delivered none for `snubAfterMs` (default 20 s),
 * counted from the later of its last block and our oldest outstanding request, so a peer that was idle
 * only because we asked for nothing is not blamed. Snubbed peers get a queue depth of 1 and their
 * requests are handed to others (`PiecePicker.expireRequests(peer, Infinity)`); the next block they
 * deliver clears the state.
 */
export function isSnubbed(input: SnubInput, snubAfterMs = 20_000): boolean {
  if (input.oldestRequestAt === undefined) return false
  const owingSince = Math.max(input.lastBlockAt ?? Number.NEGATIVE_INFINITY, input.oldestRequestAt)
  return input.now - owingSince >= snubAfterMs
}
