// End to end over loopback TCP: one of our connections serves 16 KiB blocks as fast as backpressure
// allows, the other receives them through its 'message' event. Run: `pnpm --filter @bt/peer-wire bench`.
import { randomBytes } from 'node:crypto'
import { type AddressInfo, createServer } from 'node:net'
import { acceptPeer, connectPeer, type PeerConnection } from '../src/index.js'

const TOTAL = 1 << 30
const BLOCK = 16 * 1024

const infoHash = randomBytes(20)
let accepted: Promise<PeerConnection> | undefined
const server = createServer((socket) => {
  accepted = acceptPeer(socket, {
    findTorrent: () => ({ peerId: randomBytes(20), pieceCount: TOTAL / BLOCK }),
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
const receiver = await connectPeer(
  { host: '127.0.0.1', port },
  { infoHash, peerId: randomBytes(20), pieceCount: TOTAL / BLOCK },
)
const sender = await accepted!

const block = randomBytes(BLOCK)
let received = 0
let messages = 0
const start = performance.now()
const done = new Promise<void>((resolve) => {
  receiver.on('message', (message) => {
    if (message.type !== 'piece') return
    received += message.block.length
    messages++
    if (received >= TOTAL) resolve()
  })
})

let sent = 0
const send = () => {
  while (sent < TOTAL) {
    const ok = sender.piece(sent / BLOCK, 0, block)
    sent += BLOCK
    if (!ok) return
  }
}
sender.on('drain', send)
send()
await done
const seconds = (performance.now() - start) / 1000
console.log(
  `loopback: ${(TOTAL / 1e6 / seconds).toFixed(0)} MB/s, ${(messages / seconds / 1000).toFixed(0)}k piece messages/s ` +
    `(sender and receiver share one core's event loop)`,
)
receiver.close()
sender.close()
server.close()
