// A UDP tracker that misbehaves on purpose: each test scripts how it answers (errors, garbage,
// truncation, wrong transaction ids, replies from other sockets, delays, silence) and reads the log
// of what the client sent. Answers are built by hand here, independent of the client's codec.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIP } from 'node:net'

export interface ReceivedRequest {
  action: number
  connectionId: bigint
  transactionId: number
  bytes: Buffer
  from: RemoteInfo
  /** performance.now() when it arrived. */
  at: number
}

/** Sends `bytes` back to the client, from the tracker's socket or from `via`. */
export type Reply = (bytes: Uint8Array, via?: Socket) => void

export type Respond = (request: ReceivedRequest, reply: Reply) => void

export interface HostileTracker {
  readonly address: string
  readonly port: number
  readonly requests: ReceivedRequest[]
  respond: Respond
  url(path?: string): string
  /** Another socket on `address` (default: the tracker's), for replies that must not be trusted. */
  otherSocket(address?: string): Promise<Socket>
  close(): Promise<void>
}

export async function startHostileTracker(
  address = '127.0.0.1',
  respond: Respond = () => {},
): Promise<HostileTracker> {
  const type = isIP(address) === 6 ? 'udp6' : 'udp4'
  const socket = createSocket(type)
  const others: Socket[] = []
  const requests: ReceivedRequest[] = []
  let closed = false
  await bind(socket, address)
  const tracker: HostileTracker = {
    address,
    port: socket.address().port,
    requests,
    respond,
    url: (path = '') => `udp://${type === 'udp6' ? `[${address}]` : address}:${tracker.port}${path}`,
    async otherSocket(otherAddress = address) {
      const other = createSocket(isIP(otherAddress) === 6 ? 'udp6' : 'udp4')
      await bind(other, otherAddress)
      others.push(other)
      return other
    },
    async close() {
      closed = true
      await Promise.all(
        [socket, ...others].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      )
    },
  }
  socket.on('message', (bytes, from) => {
    if (bytes.length < 16) return
    const request: ReceivedRequest = {
      connectionId: bytes.readBigUInt64BE(0),
      action: bytes.readUInt32BE(8),
      transactionId: bytes.readUInt32BE(12),
      bytes,
      from,
      at: performance.now(),
    }
    requests.push(request)
    tracker.respond(request, (answer, via = socket) => {
      // Delayed answers may fire after the test closed the tracker.
      if (!closed) via.send(answer, from.port, from.address)
    })
  })
  return tracker
}

function bind(socket: Socket, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, address, () => {
      socket.off('error', reject)
      resolve()
    })
  })
}

function words(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length)
  values.forEach((value, i) => {
    out.writeUInt32BE(value, 4 * i)
  })
  return out
}

export function connectResponse(transactionId: number, connectionId: bigint): Buffer {
  const id = Buffer.alloc(8)
  id.writeBigUInt64BE(connectionId)
  return Buffer.concat([words(0, transactionId), id])
}

export function announceResponse(
  transactionId: number,
  answer: { interval: number; leechers: number; seeders: number; peers?: Uint8Array },
): Buffer {
  return Buffer.concat([
    words(1, transactionId, answer.interval, answer.leechers, answer.seeders),
    answer.peers ?? new Uint8Array(0),
  ])
}

export function scrapeResponse(
  transactionId: number,
  entries: ReadonlyArray<{ seeders: number; completed: number; leechers: number }>,
): Buffer {
  return Buffer.concat([
    words(2, transactionId),
    ...entries.map((entry) => words(entry.seeders, entry.completed, entry.leechers)),
  ])
}

export function errorResponse(transactionId: number, message: string): Buffer {
  return Buffer.concat([words(3, transactionId), Buffer.from(message)])
}

/** A well-behaved tracker: fresh connection ids per connect, fixed announce and scrape answers. */
export function politeResponder(options: { peers?: Uint8Array } = {}): Respond {
  let nextConnectionId = 0x1000n
  return (request, reply) => {
    if (request.action === 0) reply(connectResponse(request.transactionId, nextConnectionId++))
    else if (request.action === 1) {
      reply(
        announceResponse(request.transactionId, {
          interval: 900,
          leechers: 2,
          seeders: 3,
          peers: options.peers,
        }),
      )
    } else if (request.action === 2) {
      const count = (request.bytes.length - 16) / 20
      const entries = Array.from({ length: count }, (_, i) => ({
        seeders: i,
        completed: 1000 + i,
        leechers: 2000 + i,
      }))
      reply(scrapeResponse(request.transactionId, entries))
    }
  }
}
