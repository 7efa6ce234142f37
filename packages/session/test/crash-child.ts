// A session in a process of its own, for the crash test: it opens the state dir, adds the torrent if
// the state dir does not hold it yet, downloads under a rate limit and prints one JSON line per change
// ({ at, verified }) until the test kills it.
import { readFile } from 'node:fs/promises'
import { createClient } from '@bt/client-core'
import { openSession } from '../src/index.js'

const [stateDir = '', downloadDir = '', torrentPath = '', peer = '', limit = '262144'] = process.argv.slice(2)
const client = createClient({ downloadLimit: Number(limit) })
await client.listen({ port: 0, host: '127.0.0.1' })
const session = await openSession({ stateDir, downloadDir, client, resumeFlushIntervalMs: 300 })
session.on('changed', (torrent) => {
  const progress = torrent.progress
  if (progress)
    process.stdout.write(`${JSON.stringify({ at: Date.now(), verified: progress.piecesVerified })}\n`)
})
if (session.torrents().length === 0)
  await session.add({ torrent: await readFile(torrentPath) }, { peers: [peer] })
process.stdout.write(`${JSON.stringify({ at: Date.now(), added: true })}\n`)
