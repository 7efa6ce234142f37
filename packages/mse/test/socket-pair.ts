// Two ends of a real TCP connection on a loopback address of this package's own range (127.0.40.x).
import { createServer, connect as netConnect, type Socket } from 'node:net'

export async function socketPair(host = '127.0.40.1'): Promise<{ left: Socket; right: Socket }> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const left = netConnect({ host, port, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    left.once('connect', resolve)
    left.once('error', reject)
  })
  const right = await accepted
  right.setNoDelay(true)
  server.close()
  return { left, right }
}

/** Reads exactly `length` bytes from a flowing stream. */
export function readBytes(stream: NodeJS.ReadableStream, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      got += chunk.length
      if (got >= length) {
        cleanup()
        const all = Buffer.concat(chunks)
        if (all.length > length) stream.unshift(all.subarray(length))
        resolve(all.subarray(0, length))
      }
    }
    const onEnd = () => {
      cleanup()
      reject(new Error(`stream ended after ${got} of ${length} bytes`))
    }
    const cleanup = () => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onEnd)
      stream.pause()
    }
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onEnd)
    stream.resume()
  })
}
