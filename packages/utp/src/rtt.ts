// Round-trip time and retransmission timeout, RFC 6298 style with libtorrent's 500 ms floor: smoothed
// RTT and variance from samples of packets sent once (Karn), doubled per consecutive timeout.

export interface RttEstimate {
  /** Smoothed RTT in ms; undefined before the first sample. */
  srtt: number | undefined
  rttvar: number
}

export const DEFAULT_MIN_RTO_MS = 500
export const INITIAL_RTO_MS = 1000
export const MAX_RTO_MS = 60_000

export function createRttEstimate(): RttEstimate {
  return { srtt: undefined, rttvar: 0 }
}

export function addRttSample(estimate: RttEstimate, sampleMs: number): void {
  const r = Math.max(0, sampleMs)
  if (estimate.srtt === undefined) {
    estimate.srtt = r
    estimate.rttvar = r / 2
    return
  }
  estimate.rttvar = 0.75 * estimate.rttvar + 0.25 * Math.abs(estimate.srtt - r)
  estimate.srtt = 0.875 * estimate.srtt + 0.125 * r
}

/** The timeout for a packet sent now, after `timeouts` consecutive timeouts without progress. */
export function retransmitTimeout(
  estimate: RttEstimate,
  timeouts: number,
  minRtoMs: number = DEFAULT_MIN_RTO_MS,
): number {
  const base =
    estimate.srtt === undefined
      ? Math.max(INITIAL_RTO_MS, minRtoMs)
      : Math.max(minRtoMs, estimate.srtt + 4 * estimate.rttvar)
  return Math.min(MAX_RTO_MS, base * 2 ** Math.min(timeouts, 16))
}
