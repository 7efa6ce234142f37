// A transparent UDP forwarder in front of a real tracker: the tracker answers, and the test sees
// every datagram the client sent (to observe connection id reuse and BEP 41 options on the wire).
import { createSocket, type Socket } from 'node:dgram'
import { isIP } from 'node:net'

export interface RelayedRequest {
  action: number
  connectionId: bigint
  transactionId: number
  bytes: Buffer
}

export interface UdpRelay {
  readonly port: number
  readonly requests: RelayedRequest[]
  url(path?: string): string
  close(): Promise<void>
}

export async function startUdpRelay(upstream: { address: string; port: number }): Promise<UdpRelay> {
  const type = isIP(upstream.address) === 6 ? 'udp6' : 'udp4'
  const front = createSocket(type)
  const upstreamSockets = new Map<string, Socket>()
  const requests: RelayedRequest[] = []
  front.on('message', (bytes, client) => {
    if (bytes.length >= 16) {
      requests.push({
        connectionId: bytes.readBigUInt64BE(0),
        action: bytes.readUInt32BE(8),
        transactionId: bytes.readUInt32BE(12),
        bytes,
      })
    }
    const key = `${client.address}|${client.port}`
    let socket = upstreamSockets.get(key)
    if (!socket) {
      socket = createSocket(type)
      socket.bind(0, upstream.address)
      socket.on('message', (answer) => front.send(answer, client.port, client.address))
      upstreamSockets.set(key, socket)
    }
    socket.send(bytes, upstream.port, upstream.address)
  })
  await new Promise<void>((resolve) => front.bind(0, upstream.address, resolve))
  const port = front.address().port
  return {
    port,
    requests,
    url: (path = '') =>
      `udp://${type === 'udp6' ? `[${upstream.address}]` : upstream.address}:${port}${path}`,
    async close() {
      const sockets = [front, ...upstreamSockets.values()]
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    },
  }
}
