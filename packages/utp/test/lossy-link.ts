// A lossy, slow link in user space: a UDP relay between one client and one server that delays every
// datagram and drops a share of them at random, each way. It needs no privileges, so the loss/delay
// test runs everywhere (this kernel has no sch_netem; shaped.test.ts adds a kernel bottleneck).
import { createSocket, type Socket } from 'node:dgram'

export interface LossyLinkInit {
  /** Where the relay listens for the client (an address of its own). */
  frontHost: string
  /** The address the relay sends to the server from. */
  backHost: string
  serverHost: string
  serverPort: number
  delayMs: number
  /** Probability of dropping each datagram, each way (0…1). */
  loss: number
  /** A deterministic generator, so a failing run can be replayed. */
  random?: () => number
}

export interface LossyLink {
  /** The port the client dials. */
  port: number
  forwarded: number
  dropped: number
  close(): Promise<void>
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function startLossyLink(init: LossyLinkInit): Promise<LossyLink> {
  const random = init.random ?? Math.random
  const bind = (host: string) =>
    new Promise<Socket>((resolve) => {
      const socket = createSocket('udp4')
      socket.bind(0, host, () => {
        // Deep buffers: the link should lose only what it is told to, not what a burst overflows.
        socket.setRecvBufferSize(4 << 20)
        socket.setSendBufferSize(4 << 20)
        resolve(socket)
      })
    })
  const front = await bind(init.frontHost)
  const back = await bind(init.backHost)
  let client: { address: string; port: number } | undefined
  const link = { port: front.address().port, forwarded: 0, dropped: 0, close }

  // One FIFO per direction: a constant delay keeps datagrams in order, so one timer per queue suffices.
  type Entry = { due: number; datagram: Buffer }
  const makeQueue = (deliver: (datagram: Buffer) => void) => {
    const queue: Entry[] = []
    let head = 0
    let timer: NodeJS.Timeout | undefined
    const run = () => {
      timer = undefined
      const now = performance.now()
      while (head < queue.length && queue[head]!.due <= now) deliver(queue[head++]!.datagram)
      if (head > 4096) {
        queue.splice(0, head)
        head = 0
      }
      if (head < queue.length) timer = setTimeout(run, Math.max(0, queue[head]!.due - now))
    }
    return {
      push(datagram: Buffer) {
        if (random() < init.loss) {
          link.dropped++
          return
        }
        link.forwarded++
        queue.push({ due: performance.now() + init.delayMs, datagram })
        timer ??= setTimeout(run, init.delayMs)
      },
      stop() {
        if (timer) clearTimeout(timer)
      },
    }
  }
  const toServer = makeQueue((datagram) => back.send(datagram, init.serverPort, init.serverHost))
  const toClient = makeQueue((datagram) => {
    if (client) front.send(datagram, client.port, client.address)
  })
  front.on('message', (datagram, remote) => {
    client = { address: remote.address, port: remote.port }
    toServer.push(datagram)
  })
  back.on('message', (datagram) => toClient.push(datagram))

  async function close(): Promise<void> {
    toServer.stop()
    toClient.stop()
    await Promise.all([
      new Promise<void>((resolve) => front.close(() => resolve())),
      new Promise<void>((resolve) => back.close(() => resolve())),
    ])
  }
  return link
}
