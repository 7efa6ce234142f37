// LEDBAT congestion control as libtorrent's do_ledbat: the window grows by at most `gain` bytes per
// RTT, scaled by how far the one-way queuing delay is below the target and by the share of the window
// just acked; above the target it shrinks the same way. Slow start (grow by the bytes acked) runs
// until the delay reaches the target, a loss, or the threshold. Pure: the connection owns the state.

export interface LedbatInit {
  /** Queuing delay to aim for, µs. libtorrent: 100 ms. */
  targetDelayUs: number
  /** Most the window grows per RTT at zero delay, bytes. libtorrent's utp_gain_factor: 3000. */
  gainBytes: number
  /** Loss cuts the window to this fraction. libtorrent's utp_loss_multiplier: 50 %. */
  lossFactor: number
  /** The window never drops below one packet. */
  mss: number
}

export const LEDBAT_DEFAULTS = { targetDelayUs: 100_000, gainBytes: 3000, lossFactor: 0.5 } as const

export interface LedbatState {
  cwnd: number
  slowStart: boolean
  /** Slow start ends when the window would pass this; 0 means no threshold yet. */
  ssthresh: number
}

export function createLedbatState(init: LedbatInit, initialWindow = init.mss * 2): LedbatState {
  return { cwnd: Math.max(initialWindow, init.mss), slowStart: true, ssthresh: 0 }
}

/**
 * Applies one ack: `ackedBytes` newly acked, `delayUs` the current one-way queuing delay of our
 * packets, `inFlight` the bytes that were in flight before this ack, `saturated` whether the sender
 * was using the window (an application-limited sender must not inflate it).
 */
export function ledbatOnAck(
  state: LedbatState,
  init: LedbatInit,
  ackedBytes: number,
  delayUs: number,
  inFlight: number,
  saturated: boolean,
): void {
  if (ackedBytes <= 0 || inFlight <= 0) return
  const target = Math.max(1, init.targetDelayUs)
  const windowFactor = Math.min(1, ackedBytes / inFlight)
  const delayFactor = (target - delayUs) / target
  if (delayUs >= target && state.slowStart) {
    state.ssthresh = state.cwnd / 2
    state.slowStart = false
  }
  const linear = windowFactor * Math.max(-1, delayFactor) * init.gainBytes
  let gain = 0
  if (saturated) {
    if (state.slowStart) {
      if (state.ssthresh !== 0 && state.cwnd + ackedBytes > state.ssthresh) {
        state.slowStart = false
        gain = linear
      } else {
        gain = Math.max(ackedBytes, linear)
      }
    } else {
      gain = linear
    }
  }
  state.cwnd = Math.max(init.mss, state.cwnd + gain)
}

/** A loss seen through duplicate acks or SACK: cut the window (the caller limits this to once per RTT). */
export function ledbatOnLoss(state: LedbatState, init: LedbatInit): void {
  state.cwnd = Math.max(init.mss, state.cwnd * init.lossFactor)
  if (state.slowStart) {
    state.ssthresh = state.cwnd
    state.slowStart = false
  }
}

/** A retransmission timeout: back to one packet and slow start, as TCP and libtorrent do. */
export function ledbatOnTimeout(state: LedbatState, init: LedbatInit): void {
  state.ssthresh = Math.max(init.mss, state.cwnd / 2)
  state.cwnd = init.mss
  state.slowStart = true
}
