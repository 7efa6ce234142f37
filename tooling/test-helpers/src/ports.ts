// Loopback ports for programs that must be told their port up front, and a readiness probe.
import { createSocket } from 'node:dgram'
import { type AddressInfo, connect, createServer } from 'node:net'

/** A port free for both TCP and UDP on `host` right now (opentracker wants both). */
export async function freeTcpAndUdpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer()
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject)
      tcp.listen(0, host, () => resolve((tcp.address() as AddressInfo).port))
    })
    const udp = createSocket('udp4')
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false))
      udp.bind(port, host, () => resolve(true))
    })
    udp.close()
    await new Promise((resolve) => tcp.close(resolve))
    if (udpFree) return port
  }
  throw new Error('no port free for both TCP and UDP')
}

export function acceptsTcp(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
