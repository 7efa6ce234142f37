// Bytes per second over a sliding window, from byte counts and caller-supplied times (ms), so tests
// and the engine's tick decide what "now" is. Fixed buckets keep `add` and `rate` O(window / bucket).

export interface RateMeterInit {
  /** Length of the window. Default 5000 ms. */
  windowMs?: number
  /** Bucket granularity; the window is rounded up to whole buckets. Default 250 ms. */
  bucketMs?: number
  /**
   * Shortest time span a rate is computed over. Default 1000 ms: a meter a few milliseconds old would
   * otherwise report a huge rate from its first block; the floor also gives request queues their slow
   * start (see `queueDepth`).
   */
  minSpanMs?: number
}

export class RateMeter {
  private readonly bucketMs: number
  private readonly minSpanMs: number
  private readonly counts: Float64Array
  private readonly epochs: Float64Array
  private startedAt: number | undefined
  private totalBytes = 0

  constructor(init: RateMeterInit = {}) {
    const windowMs = init.windowMs ?? 5000
    this.bucketMs = init.bucketMs ?? 250
    this.minSpanMs = init.minSpanMs ?? 1000
    if (!(this.bucketMs > 0) || !(windowMs >= this.bucketMs)) {
      throw new RangeError(`rate: need 0 < bucketMs <= windowMs, got ${this.bucketMs} and ${windowMs}`)
    }
    const buckets = Math.ceil(windowMs / this.bucketMs)
    this.counts = new Float64Array(buckets)
    this.epochs = new Float64Array(buckets).fill(Number.NEGATIVE_INFINITY)
  }

  /** Every byte ever added. */
  get total(): number {
    return this.totalBytes
  }

  /** Records `bytes` transferred at time `now`. */
  add(bytes: number, now: number): void {
    this.startedAt ??= now
    this.totalBytes += bytes
    const epoch = Math.floor(now / this.bucketMs)
    const slot = this.slot(epoch)
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch
      this.counts[slot] = 0
    }
    this.counts[slot]! += bytes
  }

  /** Bytes per second over the window ending at `now`; 0 before the first `add`. */
  rate(now: number): number {
    if (this.startedAt === undefined) return 0
    const current = Math.floor(now / this.bucketMs)
    const oldest = current - this.counts.length + 1
    let bytes = 0
    for (let slot = 0; slot < this.counts.length; slot++) {
      const epoch = this.epochs[slot]!
      if (epoch >= oldest && epoch <= current) bytes += this.counts[slot]!
    }
    const span = Math.max(this.minSpanMs, Math.min(now - oldest * this.bucketMs, now - this.startedAt))
    return (bytes * 1000) / span
  }

  private slot(epoch: number): number {
    const length = this.counts.length
    return ((epoch % length) + length) % length
  }
}
