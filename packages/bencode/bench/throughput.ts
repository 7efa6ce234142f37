// Decode and encode throughput on a large, real-world-shaped torrent, side by side with the `bencode`
// npm package (v4) in the same process. Run: `pnpm --filter @bt/bencode bench`.
import reference from 'bencode'
import { decode, encode } from '../src/index.js'
import { largeTorrent } from './torrent-shape.js'

const ROUNDS = 9
const ROUND_MS = 250

interface Case {
  name: string
  bytes: number
  ours: () => unknown
  theirs: () => unknown
}

/** Operations per second of `fn` over one timed round. */
function round(fn: () => unknown): number {
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < ROUND_MS) {
    fn()
    ops++
    elapsed = performance.now() - start
  }
  return (ops * 1000) / elapsed
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const torrent = largeTorrent()
const bytes = encode(torrent)
const ourValue = decode(bytes)
const theirValue = reference.decode(bytes)

if (Buffer.compare(Buffer.from(reference.encode(torrent)), Buffer.from(bytes)) !== 0) {
  throw new Error('the two encoders disagree on the benchmark torrent')
}

// A BEP 10 extension handshake: small messages, where per-call overhead dominates.
const handshake = {
  m: { ut_metadata: 1, ut_pex: 2 },
  metadata_size: 31_235,
  p: 6881,
  reqq: 500,
  v: 'BT 0.1.0',
  yourip: new Uint8Array([127, 0, 0, 1]),
}
const small = encode(handshake)
const ourSmall = decode(small)
const theirSmall = reference.decode(small)

const cases: Case[] = [
  { name: 'decode', bytes: bytes.length, ours: () => decode(bytes), theirs: () => reference.decode(bytes) },
  {
    name: 'encode (decoded value)',
    bytes: bytes.length,
    ours: () => encode(ourValue),
    theirs: () => reference.encode(theirValue),
  },
  {
    name: 'encode (plain object)',
    bytes: bytes.length,
    ours: () => encode(torrent),
    theirs: () => reference.encode(torrent),
  },
  {
    name: 'decode (small)',
    bytes: small.length,
    ours: () => decode(small),
    theirs: () => reference.decode(small),
  },
  {
    name: 'encode (small)',
    bytes: small.length,
    ours: () => encode(ourSmall),
    theirs: () => reference.encode(theirSmall),
  },
]

const mb = (n: number) => (n / 1e6).toFixed(1)
console.log(
  `torrent: ${mb(bytes.length)} MB, ${torrent.info.files.length} files, ${torrent.info.pieces.length / 20} pieces; small: a ${small.length}-byte extension handshake`,
)
console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms each, median\n`)
console.log(
  `${'operation'.padEnd(24)}${'@bt/bencode'.padStart(16)}${'bencode@4'.padStart(16)}${'ratio'.padStart(9)}`,
)
for (const c of cases) {
  // Warm up, then alternate rounds so drift (GC, neighbours on the machine) hits both alike.
  round(c.ours)
  round(c.theirs)
  const ours: number[] = []
  const theirs: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    ours.push(round(c.ours))
    theirs.push(round(c.theirs))
  }
  const a = median(ours)
  const b = median(theirs)
  console.log(
    `${c.name.padEnd(24)}${`${mb(a * c.bytes)} MB/s`.padStart(16)}${`${mb(b * c.bytes)} MB/s`.padStart(16)}${`${(a / b).toFixed(2)}x`.padStart(9)}`,
  )
}
