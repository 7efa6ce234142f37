// A token bucket for bytes: `--upload-limit` / `--download-limit`, per torrent or shared by a client.
// Time is read from an injectable clock so tests are exact.

export class RateLimiter {
  private tokens: number
  private last: number
  private rate: number

  /** `bytesPerSecond` ≤ 0 or Infinity means unlimited. Bursts of up to one second of traffic pass. */
  constructor(
    bytesPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.rate = bytesPerSecond
    this.tokens = this.capacity
    this.last = now()
  }

  get bytesPerSecond(): number {
    return this.rate
  }

  /** Changes the limit from now on (a daemon's `session-set`); the bucket keeps what it holds, capped. */
  setRate(bytesPerSecond: number): void {
    const wasUnlimited = this.unlimited
    this.refill()
    this.rate = bytesPerSecond
    // A bucket that had no limit starts full, as a new one does.
    this.tokens = wasUnlimited ? this.capacity : Math.min(this.tokens, this.capacity)
  }

  get unlimited(): boolean {
    return !(this.bytesPerSecond > 0 && Number.isFinite(this.bytesPerSecond))
  }

  private get capacity(): number {
    return Math.max(this.bytesPerSecond, 16 * 1024)
  }

  /** Takes `bytes` (going into debt if need be) and returns how long to wait before going on, in ms. */
  take(bytes: number): number {
    if (this.unlimited) return 0
    this.refill()
    this.tokens -= bytes
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000)
  }

  private refill(): void {
    const now = this.now()
    if (this.unlimited) {
      this.last = now
      return
    }
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond)
    this.last = now
  }
}
