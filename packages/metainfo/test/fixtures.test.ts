// Real-world torrents, checked against what libtorrent 2.0.8 computed for them
// (/work/shared/fixtures/README.md, copied here as a table).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  InvalidTorrentError,
  parseInfoDict,
  parseMagnet,
  parseTorrent,
  toMagnet,
  UnsupportedTorrentError,
} from '../src/index.js'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/torrents/${name}`, import.meta.url))

const V1_FIXTURES: [
  file: string,
  infoHash: string,
  files: number,
  bytes: number,
  pieceLength: number,
  pieces: number,
][] = [
  [
    '23516C72685E8DB0C8F15553382A927F185C4F01.torrent',
    '23516c72685e8db0c8f15553382a927f185c4f01',
    4,
    529171764,
    262144,
    2019,
  ],
  [
    'The_WIRED_CD_-_Rip._Sample._Mash._Share.torrent',
    'a88fda5954e89178c372716a6a78b8180ed4dad3',
    18,
    56070710,
    65536,
    856,
  ],
  [
    'archlinux-2011.08.19-netinstall-i686.iso.torrent',
    '500f29c0c537f5e41c6af676b7633de9d080d237',
    1,
    189792256,
    524288,
    362,
  ],
  [
    'bittorrent-v2-hybrid-test.torrent',
    '631a31dd0a46257d5078c0dee4e66e26f73e42ac',
    17,
    898631684,
    524288,
    1715,
  ],
  ['bootstrap.dat.torrent', '36719ba2cecf9f3bd7c5abfb7a88e939611b536c', 1, 22566124235, 2097152, 10761],
  ['continuum.torrent', '4029ef207642d5d6b8b9a0a484a103262f764710', 4, 6397469459, 4194304, 1526],
  [
    'debian-10.8.0-amd64-netinst.iso.torrent',
    '4090c3c2a394a49974dfbbf2ce7ad0db3cdeddd7',
    1,
    352321536,
    262144,
    1344,
  ],
  ['flat-url-list.torrent', '9da24e606e4ed9c7b91c1772fb5bf98f82bd9687', 8, 5448139, 524288, 11],
  ['issue_65a.torrent', '4fe050208d675e5cd967d41348a31ab11b316806', 8, 1492619433, 1048576, 1424],
  ['issue_65b.torrent', 'd376200e98b64abdcfa257a63f6208a704e42d9f', 8, 1056819797, 524288, 2016],
  ['sintel.torrent', '08ada5a7a6183aae1e09d831df6748d566095a10', 11, 129302391, 131072, 987],
  ['trackerless.torrent', '1dc8b6dbbb81c58b71220e20908245f8f565433f', 1, 1128, 32768, 1],
  ['wt-alice.torrent', '722fe65b2aa26d14f35b4ad627d20236e481d924', 1, 163783, 16384, 10],
  ['wt-bunny.torrent', 'af8f10f30bf9aefecf3686922bfa0d5bd290a395', 1, 434839491, 524288, 830],
  ['wt-folder.torrent', 'b88da2caac6648e6c7d7687e3f89085f7e230e6b', 1, 15, 16384, 1],
  ['wt-leaves-metadata.torrent', 'd2474e86c95b19b8bcfdb92bc12c9d44667cfa36', 1, 362017, 16384, 23],
  ['wt-leaves.torrent', 'd2474e86c95b19b8bcfdb92bc12c9d44667cfa36', 1, 362017, 16384, 23],
  ['wt-lots-of-numbers.torrent', '114ead6243792ba56297edbb9a78dfba84d4fc00', 6, 12, 16384, 1],
  ['wt-numbers.torrent', '89d97c2261a21b040cf11caa661a3ba7233bb7e6', 3, 6, 16384, 1],
]

describe('real-world torrents', () => {
  it.each(V1_FIXTURES)('%s matches libtorrent', (file, infoHash, files, bytes, pieceLength, pieces) => {
    const metainfo = parseTorrent(fixture(file))
    expect(metainfo.infoHash).toBe(infoHash)
    expect(metainfo.files).toHaveLength(files)
    expect(metainfo.length).toBe(bytes)
    expect(metainfo.pieceLength).toBe(pieceLength)
    expect(metainfo.pieceCount).toBe(pieces)
    expect(metainfo.layout.pieceCount).toBe(pieces)
    expect(metainfo.layout.totalLength).toBe(bytes)
    expect(metainfo.files.reduce((sum, entry) => sum + entry.length, 0)).toBe(bytes)
    // The bare info dict (as BEP 9 delivers it) gives the same torrent.
    const fromInfo = parseInfoDict(metainfo.infoBytes)
    expect(fromInfo.infoHash).toBe(infoHash)
    expect(fromInfo.files).toEqual(metainfo.files)
  })

  it('rejects the v2-only torrent with a typed error', () => {
    const error = (() => {
      try {
        parseTorrent(fixture('bittorrent-v2-test.torrent'))
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(UnsupportedTorrentError)
    expect((error as UnsupportedTorrentError).feature).toBe('v2-only')
  })

  it('rejects wt-corrupt.torrent for its missing name, as libtorrent does', () => {
    const error = (() => {
      try {
        parseTorrent(fixture('wt-corrupt.torrent'))
      } catch (err) {
        return err
      }
    })()
    expect(error).toBeInstanceOf(InvalidTorrentError)
    expect((error as InvalidTorrentError).field).toBe('info.name')
  })

  it('reads the hybrid torrent’s v1 part with its padding files', () => {
    const metainfo = parseTorrent(fixture('bittorrent-v2-hybrid-test.torrent'))
    const padding = metainfo.files.filter((file) => file.padding)
    expect(padding).toHaveLength(8)
    expect(padding.every((file) => file.path[0] === '.pad')).toBe(true)
    // Padding aligns every real file after the first on a piece boundary.
    for (const file of metainfo.files.slice(1)) {
      if (!file.padding) expect(file.offset % metainfo.pieceLength).toBe(0)
    }
  })

  it('reads trackers, web seeds and descriptive fields', () => {
    const sintel = parseTorrent(fixture('sintel.torrent'))
    expect(sintel.name).toBe('Sintel')
    expect(sintel.multiFile).toBe(true)
    expect(sintel.announce).toBe('udp://tracker.leechers-paradise.org:6969')
    expect(sintel.announceList).toHaveLength(8)
    expect(sintel.announceList[5]).toEqual(['wss://tracker.btorrent.xyz'])
    expect(sintel.urlList).toEqual(['https://webtorrent.io/torrents/'])
    expect(sintel.comment).toBe('WebTorrent <https://webtorrent.io>')
    expect(sintel.createdBy).toMatch(/^WebTorrent/)
    expect(sintel.creationDate).toBeInstanceOf(Date)
    expect(sintel.files[0]).toMatchObject({
      path: ['Sintel.de.srt'],
      length: 1652,
      offset: 0,
      padding: false,
    })

    expect(parseTorrent(fixture('flat-url-list.torrent')).urlList).toEqual(['https://archive.org/download/'])
    expect(
      parseTorrent(fixture('archlinux-2011.08.19-netinstall-i686.iso.torrent')).urlList.length,
    ).toBeGreaterThan(10)
    expect(parseTorrent(fixture('wt-bunny.torrent')).private).toBe(true)
    expect(parseTorrent(fixture('23516C72685E8DB0C8F15553382A927F185C4F01.torrent')).private).toBe(false)
    expect(parseTorrent(fixture('trackerless.torrent')).announceList).toEqual([])
    expect(parseTorrent(fixture('issue_65b.torrent')).files[0]!.path).toEqual(['SIS001影视联盟.gif'])
  })

  it('maps the 10 761 pieces of bootstrap.dat onto its file', () => {
    const metainfo = parseTorrent(fixture('bootstrap.dat.torrent'))
    const last = metainfo.pieceCount - 1
    expect(metainfo.layout.pieceLengthAt(last)).toBe(22566124235 - last * 2097152)
    expect(metainfo.layout.spansForPiece(last)).toEqual([
      { fileIndex: 0, fileOffset: last * 2097152, length: 22566124235 - last * 2097152 },
    ])
    expect(metainfo.pieceHash(last)).toEqual(metainfo.pieces.subarray(last * 20))
  })

  it('turns a torrent into a magnet link and back', () => {
    const sintel = parseTorrent(fixture('sintel.torrent'))
    const magnet = parseMagnet(toMagnet(sintel))
    expect(magnet.infoHash).toBe(sintel.infoHash)
    expect(magnet.name).toBe('Sintel')
    expect(magnet.trackers).toEqual(sintel.announceList.flat())
    expect(magnet.webSeeds).toEqual(sintel.urlList)
  })
})
