// A raw UDP socket that plays a DHT node for hostile tests: it sees each datagram our node sends it and
// answers whatever its handler returns (nothing, garbage, a crafted response).
import { createSocket, type Socket } from 'node:dgram'
import { type BencodeDict, decode } from '@bt/bencode'
import { loopbackHost } from './loopback.js'

export interface HostileNode {
  host: string
  port: number
  socket: Socket
  /** Queries received, decoded (undefined for what did not decode). */
  received: (BencodeDict | undefined)[]
  send(packet: Uint8Array, to: { host: string; port: number }): Promise<void>
  close(): Promise<void>
}

export type HostileHandler = (
  query: BencodeDict,
  from: { host: string; port: number },
) => Uint8Array | undefined

export async function startHostileNode(handler: HostileHandler = () => undefined): Promise<HostileNode> {
  const socket = createSocket('udp4')
  const host = loopbackHost()
  await new Promise<void>((resolve) => socket.bind(0, host, resolve))
  const received: (BencodeDict | undefined)[] = []
  socket.on('message', (packet, remote) => {
    let query: BencodeDict | undefined
    try {
      const value = decode(packet, { strict: false })
      query = value instanceof Map ? value : undefined
    } catch {
      query = undefined
    }
    received.push(query)
    if (!query) return
    const reply = handler(query, { host: remote.address, port: remote.port })
    if (reply) socket.send(reply, remote.port, remote.address)
  })
  return {
    host,
    port: socket.address().port,
    socket,
    received,
    send: (packet, to) =>
      new Promise((resolve, reject) =>
        socket.send(packet, to.port, to.host, (error) => (error ? reject(error) : resolve())),
      ),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  }
}
