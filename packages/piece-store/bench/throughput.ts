// Throughput of the file store on a 1 GiB torrent with 1 MiB pieces: writePiece (hash + positional
// writes, 8 pieces in flight as a client would keep them), close (fsync + resume data), and recheck
// with 0 (main thread), 1 and 2 hashing workers. Data goes to BENCH_DIR (default: the OS temp dir); rechecks read from the page cache, so they
// measure hashing and I/O overhead rather than the disk. BENCH_MIB changes the size.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Metainfo } from '@bt/metainfo'
import { createFileStore } from '../src/index.js'
import { buildTorrent } from '../test/helpers/torrent.js'

const MiB = 1024 * 1024
const size = Number(process.env.BENCH_MIB ?? 1024) * MiB
const pieceLength = MiB
const inFlight = 8

// Every piece is the same random MiB stamped with its offset: distinct hashes without 1 GiB in memory.
const base = randomBytes(pieceLength)
const fill = (offset: number, target: Uint8Array) => {
  target.set(base.subarray(0, target.length))
  new DataView(target.buffer, target.byteOffset, target.byteLength).setFloat64(0, offset)
}
const { meta } = buildTorrent({ name: 'bench.bin', pieceLength, files: size, fill })
const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'bt-piece-store-bench-'))
let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 50)
const rate = (bytes: number, ms: number) => `${((bytes / MiB / ms) * 1000).toFixed(0).padStart(5)} MB/s`
const line = (label: string, text: string) => console.log(`${label.padEnd(30)}${text}`)

/** Writes every piece with `inFlight` writes outstanding, each lane refilling its own buffer. */
async function download(meta: Metainfo, directory: string): Promise<void> {
  const store = await createFileStore(meta, { directory })
  let next = 0
  const cpuBefore = process.cpuUsage()
  let started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      const buffer = new Uint8Array(pieceLength)
      while (next < meta.pieceCount) {
        const index = next++
        const piece = buffer.subarray(0, meta.layout.pieceLengthAt(index))
        fill(index * pieceLength, piece)
        await store.writePiece(index, piece)
      }
    }),
  )
  const elapsed = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const perPiece = ((cpu.user + cpu.system) / 1000 / meta.pieceCount).toFixed(2)
  line(
    'writePiece (SHA-1 + write)',
    `${rate(size, elapsed)}  (${elapsed.toFixed(0)} ms, process CPU ${perPiece} ms/piece)`,
  )
  started = performance.now()
  await store.close()
  line('close (fsync + resume data)', `${(performance.now() - started).toFixed(0).padStart(5)} ms`)
}

try {
  console.log(
    `piece-store bench: ${size / MiB} MiB, ${meta.pieceCount} pieces of ${pieceLength / MiB} MiB in ${root}`,
  )
  const directory = join(root, 'hashed')
  await download(meta, directory)
  for (const workers of [0, 1, 2]) {
    const checker = await createFileStore(meta, { directory, resumeFile: null, check: 'always', workers })
    const started = performance.now()
    const valid = await checker.recheck()
    const elapsed = performance.now() - started
    if (!valid.complete) throw new Error('recheck found missing pieces')
    line(
      `recheck, ${workers === 0 ? 'main thread' : `${workers} worker${workers > 1 ? 's' : ''}`}`,
      `${rate(size, elapsed)}  (${elapsed.toFixed(0)} ms)`,
    )
    await checker.close()
  }
  line('peak RSS', `${(peakRss / MiB).toFixed(0).padStart(5)} MB`)
} finally {
  clearInterval(sampler)
  await rm(root, { recursive: true, force: true })
}
