// `bt info` on a large torrent: 200 000 pieces over 20 000 files (a 200 GB season pack's shape, 1 MiB
// pieces), timed and measured with /usr/bin/time. Targets (issue #14): ≤ 100 ms and ≤ 70 MB.
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encode } from '@bt/bencode'
import { timed } from './bench-helpers.js'

const PIECES = 200_000
const FILES = 20_000
const PIECE_LENGTH = 1024 * 1024
const runs = Number(process.env.BENCH_RUNS ?? 5)
const bt = fileURLToPath(new URL('../dist/bt.js', import.meta.url))
const root = join(tmpdir(), 'bt-bench-large')
await mkdir(root, { recursive: true })
const torrentPath = join(root, 'large.torrent')

const total = PIECES * PIECE_LENGTH
const files: { length: number; path: string[] }[] = []
for (let index = 0, left = total; index < FILES; index++) {
  // Unequal sizes that add up to the whole, so files cross piece boundaries.
  const length = index === FILES - 1 ? left : Math.floor(total / FILES) + (index % 7) * 1000 - 3000
  files.push({ length, path: [`season-${Math.floor(index / 1000)}`, `episode-${index}.mkv`] })
  left -= length
}
await writeFile(
  torrentPath,
  encode({
    announce: 'http://127.0.0.1:1/announce',
    info: { name: 'large', 'piece length': PIECE_LENGTH, pieces: randomBytes(20 * PIECES), files },
  }),
)

const measured = []
for (let run = 0; run < runs; run++) {
  measured.push(await timed(process.execPath, [bt, 'info', torrentPath]))
}
const median = (values: number[]) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const ms = median(measured.map((m) => m.wallSeconds)) * 1000
const mb = median(measured.map((m) => m.peakRssMiB)) * 1.048576
console.log(
  `bt info, ${PIECES} pieces, ${FILES} files: ${ms.toFixed(0)} ms (target ≤ 100), ${mb.toFixed(0)} MB peak RSS (target ≤ 70); median of ${runs}`,
)
