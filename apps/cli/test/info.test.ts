import { readFileSync } from 'node:fs'
import { truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type BencodeDict, decode, encode } from '@bt/bencode'
import { withTempDir } from '@bt/test-helpers'
import { describe, expect, it } from 'vitest'
import { fixture, runBt } from './run-bt.js'

/** Ground truth from /work/shared/fixtures/README.md (libtorrent 2.0.8). */
const fixtures = [
  {
    file: 'wt-alice.torrent',
    tracker: '',
    infoHash: '722fe65b2aa26d14f35b4ad627d20236e481d924',
    length: 163783,
    pieceLength: 16384,
    pieces: 10,
  },
  {
    file: 'sintel.torrent',
    tracker: 'udp://tracker.leechers-paradise.org:6969',
    infoHash: '08ada5a7a6183aae1e09d831df6748d566095a10',
    length: 129302391,
    pieceLength: 131072,
    pieces: 987,
  },
  {
    file: 'trackerless.torrent',
    tracker: '',
    infoHash: '1dc8b6dbbb81c58b71220e20908245f8f565433f',
    length: 1128,
    pieceLength: 32768,
    pieces: 1,
  },
  {
    file: 'flat-url-list.torrent',
    tracker: 'http://bt1.archive.org:6969/announce',
    infoHash: '9da24e606e4ed9c7b91c1772fb5bf98f82bd9687',
    length: 5448139,
    pieceLength: 524288,
    pieces: 11,
  },
  {
    file: 'archlinux-2011.08.19-netinstall-i686.iso.torrent',
    tracker: 'http://tracker.archlinux.org:6969/announce',
    infoHash: '500f29c0c537f5e41c6af676b7633de9d080d237',
    length: 189792256,
    pieceLength: 524288,
    pieces: 362,
  },
  {
    file: 'bittorrent-v2-hybrid-test.torrent',
    tracker: '',
    infoHash: '631a31dd0a46257d5078c0dee4e66e26f73e42ac',
    length: 898631684,
    pieceLength: 524288,
    pieces: 1715,
  },
]

/** The piece hashes read straight from the file's bencode, independently of @bt/metainfo. */
function rawPieceHashes(file: string): string[] {
  const root = decode(readFileSync(fixture(file)), { strict: false }) as BencodeDict
  const pieces = (root.get('info') as BencodeDict).get('pieces') as Uint8Array
  const hashes: string[] = []
  for (let at = 0; at < pieces.length; at += 20)
    hashes.push(Buffer.from(pieces.subarray(at, at + 20)).toString('hex'))
  return hashes
}

function torrentBytes(root: Record<string, unknown>): Uint8Array {
  return encode(root as Parameters<typeof encode>[0])
}

const smallInfo = { length: 5, name: 'a.txt', 'piece length': 16384, pieces: new Uint8Array(20).fill(0xab) }

describe('bt info', () => {
  it.each(fixtures)('prints the required block for $file', async (expected) => {
    const { code, stdout, stderr } = await runBt(['info', fixture(expected.file)])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    const hashes = rawPieceHashes(expected.file)
    expect(hashes).toHaveLength(expected.pieces)
    const lines = stdout.split('\n')
    expect(lines.slice(0, 5 + expected.pieces)).toEqual([
      `Tracker URL: ${expected.tracker}`,
      `Length: ${expected.length}`,
      `Info Hash: ${expected.infoHash}`,
      `Piece Length: ${expected.pieceLength}`,
      'Piece Hashes:',
      ...hashes,
    ])
    // Whatever follows the block is not a hash line a parser could mistake for one more piece.
    expect(lines[5 + expected.pieces]).not.toMatch(/^[0-9a-f]{40}$/)
    expect(stdout.endsWith('\n')).toBe(true)
  })

  it('prints exactly this for a small trackerless torrent', async () => {
    expect(await runBt(['info', fixture('trackerless.torrent')])).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'Tracker URL: ',
        'Length: 1128',
        'Info Hash: 1dc8b6dbbb81c58b71220e20908245f8f565433f',
        'Piece Length: 32768',
        'Piece Hashes:',
        'd588eb093d91558ce469ce5ee6a0b045e23fc7d2',
        'Name: testfile.bin',
        'Private: no',
        'Comment: This is just a test',
        'Created By: Johnny Bravo',
        'Creation Date: 2015-05-03T10:26:34.000Z',
        '',
      ].join('\n'),
    })
  })

  it('lists the files, web seeds and tiers of a multi-file torrent after the block', async () => {
    const { stdout } = await runBt(['info', fixture('sintel.torrent')])
    const details = stdout.split('\n').slice(5 + 987)
    expect(details).toEqual([
      'Name: Sintel',
      'Files:',
      '  0  1652  Sintel.de.srt',
      '  1  1514  Sintel.en.srt',
      '  2  1554  Sintel.es.srt',
      '  3  1618  Sintel.fr.srt',
      '  4  1546  Sintel.it.srt',
      '  5  129241752  Sintel.mp4',
      '  6  1537  Sintel.nl.srt',
      '  7  1536  Sintel.pl.srt',
      '  8  1551  Sintel.pt.srt',
      '  9  2016  Sintel.ru.srt',
      '  10  46115  poster.jpg',
      'Private: no',
      'Comment: WebTorrent <https://webtorrent.io>',
      'Created By: WebTorrent <https://webtorrent.io>',
      'Creation Date: 2017-03-30T23:30:37.000Z',
      'Web Seeds:',
      '  https://webtorrent.io/torrents/',
      'Trackers:',
      '  tier 1: udp://tracker.leechers-paradise.org:6969',
      '  tier 2: udp://tracker.coppersurfer.tk:6969',
      '  tier 3: udp://tracker.opentrackr.org:1337',
      '  tier 4: udp://explodie.org:6969',
      '  tier 5: udp://tracker.empire-js.us:1337',
      '  tier 6: wss://tracker.btorrent.xyz',
      '  tier 7: wss://tracker.openwebtorrent.com',
      '  tier 8: wss://tracker.fastcast.nz',
      '',
    ])
  })

  it('leaves BEP 47 padding files out of the listing but counts them in the length', async () => {
    const { stdout } = await runBt(['info', fixture('bittorrent-v2-hybrid-test.torrent')])
    const listed = stdout.split('\n').filter((line) => /^ {2}\d+ {2}\d+ {2}/.test(line))
    expect(listed).toHaveLength(9)
    expect(listed.some((line) => line.includes('.pad'))).toBe(false)
    // Numbered 0..8 without gaps: padding files take no number.
    expect(listed.map((line) => Number(line.trim().split(' ')[0]))).toEqual([...Array(9).keys()])
    const json = JSON.parse(
      (await runBt(['info', '--json', fixture('bittorrent-v2-hybrid-test.torrent')])).stdout,
    )
    expect(json.files).toHaveLength(17)
    expect(json.files.filter((file: { padding: boolean }) => file.padding)).toHaveLength(8)
    expect(
      json.files.flatMap((file: { index: number | null }) => (file.index === null ? [] : [file.index])),
    ).toEqual([...Array(9).keys()])
    expect(json.files.reduce((sum: number, file: { length: number }) => sum + file.length, 0)).toBe(898631684)
  })

  it('uses the first tracker of announce-list when there is no announce', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'tiers.torrent')
      await writeFile(
        path,
        torrentBytes({
          'announce-list': [
            ['http://a.example/announce', 'http://b.example/announce'],
            ['udp://c.example:6969'],
          ],
          info: smallInfo,
        }),
      )
      const { code, stdout } = await runBt(['info', path])
      expect(code).toBe(0)
      expect(stdout.split('\n')[0]).toBe('Tracker URL: http://a.example/announce')
      expect(stdout).toContain(
        'Trackers:\n  tier 1: http://a.example/announce\n  tier 1: http://b.example/announce\n  tier 2: udp://c.example:6969\n',
      )
    })
  })

  it('escapes control characters so a name cannot forge output lines', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'evil.torrent')
      const forged = `x\nInfo Hash: ${'0'.repeat(40)}\x1b[2J`
      await writeFile(path, torrentBytes({ comment: forged, info: { ...smallInfo, name: 'evil\r\nname' } }))
      const { code, stdout } = await runBt(['info', path])
      expect(code).toBe(0)
      expect(stdout.split('\n').filter((line) => line.startsWith('Info Hash: '))).toHaveLength(1)
      expect(stdout).toContain(`Comment: x\\nInfo Hash: ${'0'.repeat(40)}\\x1b[2J\n`)
      expect(stdout).not.toContain('\x1b')
      expect(stdout).not.toContain('\r')
    })
  })

  it('prints one JSON object with everything with --json', async () => {
    const { code, stdout, stderr } = await runBt(['info', '--json', fixture('sintel.torrent')])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout.endsWith('}\n')).toBe(true)
    expect(stdout.trimEnd()).not.toContain('\n')
    const json = JSON.parse(stdout)
    expect(Object.keys(json)).toEqual([
      'infoHash',
      'name',
      'length',
      'pieceLength',
      'pieceCount',
      'pieceHashes',
      'announce',
      'announceList',
      'multiFile',
      'files',
      'private',
      'urlList',
      'comment',
      'createdBy',
      'creationDate',
    ])
    expect(json).toMatchObject({
      infoHash: '08ada5a7a6183aae1e09d831df6748d566095a10',
      name: 'Sintel',
      length: 129302391,
      pieceLength: 131072,
      pieceCount: 987,
      announce: 'udp://tracker.leechers-paradise.org:6969',
      multiFile: true,
      private: false,
      urlList: ['https://webtorrent.io/torrents/'],
      comment: 'WebTorrent <https://webtorrent.io>',
      createdBy: 'WebTorrent <https://webtorrent.io>',
      creationDate: '2017-03-30T23:30:37.000Z',
    })
    expect(json.pieceHashes).toEqual(rawPieceHashes('sintel.torrent'))
    expect(json.announceList).toHaveLength(8)
    expect(json.files).toHaveLength(11)
    expect(json.files[5]).toEqual({ index: 5, path: 'Sintel.mp4', length: 129241752, padding: false })
  })

  it('gives null for absent fields in --json', async () => {
    const json = JSON.parse((await runBt(['info', '--json', fixture('wt-alice.torrent')])).stdout)
    expect(json).toMatchObject({
      announce: null,
      announceList: [],
      comment: null,
      createdBy: null,
      urlList: [],
    })
  })

  it('reads the torrent from stdin given -', async () => {
    const stdin = readFileSync(fixture('trackerless.torrent'))
    const { code, stdout } = await runBt(['info', '-'], { stdin })
    expect(code).toBe(0)
    expect(stdout).toContain('Info Hash: 1dc8b6dbbb81c58b71220e20908245f8f565433f\n')
  })

  describe('failures exit 1 with one line on stderr', () => {
    it.each([
      ['a missing file', 'missing.torrent', 'bt: missing.torrent: no such file or directory\n'],
      ['a directory', 'test', 'bt: test: is a directory\n'],
    ])('%s', async (_, path, message) => {
      expect(await runBt(['info', path])).toEqual({ code: 1, stdout: '', stderr: message })
    })

    it.each([
      [
        'not bencode',
        'package.json',
        /^bt: metainfo: invalid torrent: torrent: not valid bencode \(bencode: .* at byte 0\)\n$/,
      ],
      [
        'a v2-only torrent',
        fixture('bittorrent-v2-test.torrent'),
        /^bt: metainfo: unsupported torrent: .*v2.*\n$/,
      ],
    ])('%s', async (_, path, message) => {
      const result = await runBt(['info', path])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(message)
    })

    it('a torrent without info', async () => {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'x.torrent'), torrentBytes({ announce: 'http://t.example/announce' }))
        expect(await runBt(['info', 'x.torrent'], { cwd: dir })).toEqual({
          code: 1,
          stdout: '',
          stderr: 'bt: metainfo: invalid torrent: info: missing\n',
        })
      })
    })

    it('a file too large to be a torrent, without reading it', async () => {
      await withTempDir(async (dir) => {
        const path = join(dir, 'huge.iso')
        await writeFile(path, '')
        await truncate(path, 65 * 1024 * 1024)
        expect(await runBt(['info', path])).toEqual({
          code: 1,
          stdout: '',
          stderr: `bt: ${path}: too large (over 64 MiB)\n`,
        })
      })
    })

    it('an invalid magnet link', async () => {
      const result = await runBt(['info', 'magnet:?dn=nothing'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^bt: metainfo: invalid magnet link: xt: .*\n$/)
    })
  })

  it('exits 2 on an unknown option', async () => {
    const result = await runBt(['info', '--jsno', fixture('wt-alice.torrent')])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain("bt: unknown option '--jsno'")
  })
})
