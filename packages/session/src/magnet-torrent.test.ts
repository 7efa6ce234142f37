import { parseTorrent } from '@bt/metainfo'
import { describe, expect, it } from 'vitest'
import { torrentFromInfo } from './magnet-torrent.js'

// An info dict with its keys in a non-canonical order: re-encoding it would change the info hash.
const info = Buffer.from('d4:name3:abc6:lengthi5e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae')

describe('torrentFromInfo', () => {
  it('keeps the info bytes as they came, so the info hash is unchanged', () => {
    const bare = parseTorrent(torrentFromInfo(info))
    const withTrackers = parseTorrent(
      torrentFromInfo(info, {
        trackers: ['http://127.0.0.1:1/announce', 'udp://127.0.0.1:2'],
        webSeeds: ['http://127.0.0.1:3/'],
      }),
    )
    expect(Buffer.from(bare.infoBytes)).toEqual(info)
    expect(withTrackers.infoHash).toBe(bare.infoHash)
    expect(withTrackers.announceList).toEqual([['http://127.0.0.1:1/announce'], ['udp://127.0.0.1:2']])
    expect(withTrackers.urlList).toEqual(['http://127.0.0.1:3/'])
  })
})
