// Every v1 fixture read by libtorrent (python3-libtorrent) and by us must agree on the info hash, the
// files, where each piece lands, the tracker tiers and the web seeds.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeWithTools } from '@bt/test-helpers'
import { expect, it } from 'vitest'
import { parseTorrent } from '../src/index.js'

const directory = fileURLToPath(new URL('./fixtures/torrents/', import.meta.url))

const SCRIPT = `
import json, sys, libtorrent as lt
out = {}
for path in sys.argv[1:]:
    try:
        ti = lt.torrent_info(path)
    except Exception as error:
        out[path] = {'error': str(error)}
        continue
    fs = ti.files()
    out[path] = {
        'infoHash': str(ti.info_hashes().v1),
        'v1': ti.info_hashes().has_v1(),
        'name': ti.name(),
        'private': ti.priv(),
        'files': [[fs.file_path(i), fs.file_size(i), fs.file_offset(i),
                   bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)] for i in range(fs.num_files())],
        'pieces': [[[s.file_index, s.offset, s.size] for s in ti.map_block(p, 0, ti.piece_size(p)) if s.size > 0]
                   for p in range(ti.num_pieces())],
        'trackers': [[t.url, t.tier] for t in ti.trackers()],
        'webSeeds': [w['url'] for w in ti.web_seeds() if w['type'] == 0],
    }
print(json.dumps(out))
`

interface LibtorrentView {
  error?: string
  infoHash: string
  v1: boolean
  name: string
  private: boolean
  files: [path: string, size: number, offset: number, padding: boolean][]
  pieces: [file: number, offset: number, size: number][][]
  trackers: [url: string, tier: number][]
  webSeeds: string[]
}

describeWithTools(['py:libtorrent'], 'agreement with libtorrent', () => {
  const files = readdirSync(directory).filter((name) => name.endsWith('.torrent'))
  const run = spawnSync('/usr/bin/python3', ['-c', SCRIPT, ...files], {
    cwd: directory,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  })
  const views = run.status === 0 ? (JSON.parse(run.stdout) as Record<string, LibtorrentView>) : {}

  it('ran libtorrent', () => {
    expect(run.stderr).toBe('')
    expect(Object.keys(views)).toHaveLength(files.length)
  })

  it.each(files.filter((file) => file !== 'bittorrent-v2-test.torrent' && file !== 'wt-corrupt.torrent'))(
    '%s',
    (file) => {
      const expected = views[file]!
      expect(expected.error).toBeUndefined()
      const metainfo = parseTorrent(readFileSync(`${directory}${file}`))
      expect(metainfo.infoHash).toBe(expected.infoHash)
      expect(metainfo.name).toBe(expected.name)
      expect(metainfo.private).toBe(expected.private)
      expect(
        metainfo.files.map((entry) => [
          (metainfo.multiFile ? [metainfo.name, ...entry.path] : entry.path).join('/'),
          entry.length,
          entry.offset,
          entry.padding,
        ]),
      ).toEqual(expected.files)
      const pieces = Array.from({ length: metainfo.pieceCount }, (_, index) =>
        metainfo.layout.spansForPiece(index).map((span) => [span.fileIndex, span.fileOffset, span.length]),
      )
      expect(pieces).toEqual(expected.pieces)
      const tiers: string[][] = []
      for (const [url, tier] of expected.trackers) {
        tiers[tier] = [...(tiers[tier] ?? []), url]
      }
      expect(metainfo.announceList).toEqual(tiers.filter((tier) => tier !== undefined))
      expect(metainfo.urlList).toEqual(expected.webSeeds)
    },
  )
})
