// Child process for crash-safety.test.ts: resumes the download of `crashTorrent()` into argv[2] (resume
// data in argv[3]), writing pieces in a seeded random order with frequent checkpoints, until the parent
// kills it with SIGKILL or it finishes and prints `done`.
import { setTimeout as sleep } from 'node:timers/promises'
import { createFileStore } from '../src/index.js'
import { crashTorrent } from './helpers/crash-torrent.js'

const [directory, resumeFile, seedText] = process.argv.slice(2)
if (directory === undefined || resumeFile === undefined)
  throw new Error('usage: crash-child <directory> <resumeFile> [seed]')
let state = Number(seedText ?? 1) * 2654435761 + 1
const random = () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0
  return state / 2 ** 32
}

const torrent = crashTorrent()
const store = await createFileStore(torrent.meta, {
  directory,
  resumeFile,
  flushInterval: 15,
  flushPieces: 5,
  workers: 1,
})
process.stdout.write(`ready ${store.have.count}\n`)
const missing = [...store.have.missing()]
for (let index = missing.length - 1; index > 0; index--) {
  const other = Math.floor(random() * (index + 1))
  ;[missing[index], missing[other]] = [missing[other]!, missing[index]!]
}
let next = 0
await Promise.all(
  [0, 1].map(async () => {
    while (next < missing.length) {
      const index = missing[next++]!
      await store.writePiece(index, torrent.piece(index))
      await sleep(1 + random() * 3)
    }
  }),
)
await store.close()
process.stdout.write('done\n')
