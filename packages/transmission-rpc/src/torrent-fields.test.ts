import { describe, expect, it } from 'vitest'
import { makeTorrent } from '../test/memory-session.js'
import { int, knownFields, percentDone, torrentObject, uploadRatio } from './torrent-fields.js'

describe('torrent fields', () => {
  it('rounds integers and turns non-finite values into 0', () => {
    expect([int(12.5), int(12.4), int(Number.NaN), int(Number.POSITIVE_INFINITY)]).toEqual([13, 12, 0, 0])
  })

  it('computes the ratio as Transmission: -1 nothing moved, -2 uploaded only', () => {
    expect(uploadRatio(makeTorrent({ id: 1, name: 'a' }))).toBe(-1)
    expect(uploadRatio(makeTorrent({ id: 1, name: 'a', uploadedEver: 5 }))).toBe(-2)
    expect(uploadRatio(makeTorrent({ id: 1, name: 'a', uploadedEver: 5, downloadedEver: 10 }))).toBe(0.5)
    expect(uploadRatio(makeTorrent({ id: 1, name: 'a', uploadedEver: 30, haveValid: 10 }))).toBe(3)
  })

  it('computes percentDone from the wanted bytes', () => {
    expect(percentDone(makeTorrent({ id: 1, name: 'a', sizeWhenDone: 200, leftUntilDone: 50 }))).toBe(0.75)
    expect(
      percentDone(
        makeTorrent({ id: 1, name: 'a', sizeWhenDone: 0, leftUntilDone: 0, metadataPercentComplete: 0.3 }),
      ),
    ).toBe(0)
  })

  it('sends every field transmission-remote -l needs as an integer', () => {
    const torrent = makeTorrent({
      id: 1,
      name: 'a',
      eta: 12.7,
      rateDownload: 12.5,
      rateUpload: 0.4,
      leftUntilDone: 99.9,
      sizeWhenDone: 1000.2,
    })
    const fields = knownFields([
      'eta',
      'id',
      'leftUntilDone',
      'rateDownload',
      'rateUpload',
      'sizeWhenDone',
      'status',
    ])
    const got = torrentObject(torrent, fields)
    for (const name of fields) expect(Number.isInteger(got[name]), name).toBe(true)
  })

  it('knows no field from Object.prototype', () => {
    expect(knownFields(['constructor', 'toString', '__proto__', 'id', 'id'])).toEqual(['id'])
  })
})
