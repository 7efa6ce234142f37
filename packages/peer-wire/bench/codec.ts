// Decode throughput of `piece` messages through the chunk-list decoder, fed the way a socket feeds it
// (64 KiB chunks, so about one block in four spans two chunks and is copied), and encode throughput of
// request bursts. Run: `pnpm --filter @bt/peer-wire bench`.
import { randomBytes } from 'node:crypto'
import { encodeMessage, encodeMessageInto, MessageDecoder, type WireMessage } from '../src/index.js'

const ROUNDS = 7
const BLOCK = 16 * 1024
const CHUNK = 64 * 1024
const MESSAGES = 4096

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** A stream of piece messages cut into socket-sized chunks (own buffers, as a socket delivers them). */
function pieceStream(chunkSize: number): Uint8Array[] {
  const block = randomBytes(BLOCK)
  const wire = Buffer.concat(
    Array.from({ length: MESSAGES }, (_, i) =>
      encodeMessage({ type: 'piece', index: i >> 4, begin: 0, block }),
    ),
  )
  const chunks: Uint8Array[] = []
  for (let start = 0; start < wire.length; start += chunkSize) {
    chunks.push(Uint8Array.from(wire.subarray(start, start + chunkSize)))
  }
  return chunks
}

function decodeRound(chunks: Uint8Array[]): { bytes: number; ms: number; views: number } {
  const decoder = new MessageDecoder({ pieceCount: MESSAGES })
  let bytes = 0
  let views = 0
  const start = performance.now()
  for (const chunk of chunks) {
    decoder.push(chunk)
    for (let message = decoder.next(); message !== undefined; message = decoder.next()) {
      if (message.type === 'piece') {
        bytes += message.block.length
        if (message.block.buffer === chunk.buffer) views++
      }
    }
  }
  return { bytes, ms: performance.now() - start, views }
}

for (const chunkSize of [CHUNK, 16 * 1024 + 13, 1460]) {
  const chunks = pieceStream(chunkSize)
  decodeRound(chunks)
  const rates: number[] = []
  let views = 0
  for (let round = 0; round < ROUNDS; round++) {
    const result = decodeRound(chunks)
    rates.push(result.bytes / 1e6 / (result.ms / 1000))
    views = result.views
  }
  console.log(
    `decode piece messages, ${chunkSize}-byte chunks: ${median(rates).toFixed(0)} MB/s ` +
      `(${((views / MESSAGES) * 100).toFixed(0)}% of blocks returned as views, the rest copied once)`,
  )
}

// Requests as a client sends them: bursts of 64 encoded into one buffer.
const requests: WireMessage[] = Array.from({ length: 64 }, (_, i) => ({
  type: 'request',
  index: i >> 2,
  begin: (i & 3) * BLOCK,
  length: BLOCK,
}))
const target = new Uint8Array(64 * 17)
const encodeRates: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  let count = 0
  const start = performance.now()
  while (performance.now() - start < 200) {
    for (let burst = 0; burst < 100; burst++) {
      let at = 0
      for (const request of requests) at = encodeMessageInto(request, target, at)
      count += requests.length
    }
  }
  encodeRates.push(count / ((performance.now() - start) / 1000))
}
console.log(`encode requests into one buffer: ${(median(encodeRates) / 1e6).toFixed(1)} M messages/s`)
