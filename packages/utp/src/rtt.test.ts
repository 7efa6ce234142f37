import { describe, expect, it } from 'vitest'
import { addRttSample, createRttEstimate, MAX_RTO_MS, retransmitTimeout } from './rtt.js'

describe('RTT and RTO (RFC 6298, libtorrent floor)', () => {
  it('starts at 1 s before any sample', () => {
    expect(retransmitTimeout(createRttEstimate(), 0)).toBe(1000)
  })

  it('takes the first sample whole, then smooths with 1/8 and 1/4 gains', () => {
    const e = createRttEstimate()
    addRttSample(e, 200)
    expect(e.srtt).toBe(200)
    expect(e.rttvar).toBe(100)
    expect(retransmitTimeout(e, 0, 100)).toBe(600)
    addRttSample(e, 400)
    expect(e.rttvar).toBe(0.75 * 100 + 0.25 * 200)
    expect(e.srtt).toBe(0.875 * 200 + 0.125 * 400)
  })

  it('never goes below the 500 ms floor on a fast link', () => {
    const e = createRttEstimate()
    for (let i = 0; i < 50; i++) addRttSample(e, 1)
    expect(retransmitTimeout(e, 0)).toBe(500)
  })

  it('doubles per consecutive timeout up to a minute', () => {
    const e = createRttEstimate()
    addRttSample(e, 100)
    const base = retransmitTimeout(e, 0)
    expect(retransmitTimeout(e, 1)).toBe(base * 2)
    expect(retransmitTimeout(e, 3)).toBe(base * 8)
    expect(retransmitTimeout(e, 30)).toBe(MAX_RTO_MS)
  })
})
