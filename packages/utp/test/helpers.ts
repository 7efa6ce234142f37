// Shared scaffolding for the loopback tests: pairs of uTP sockets on our own loopback addresses
// (127.0.50.x, so no other test's ports collide), bounded waits, hashing a stream.
import { createCipheriv, createHash } from 'node:crypto'
import type { Readable, Writable } from 'node:stream'
import { createUtpSocket, type UtpConnection, type UtpSocket, type UtpSocketInit } from '../src/index.js'

export async function socketPair(
  hostA: string,
  hostB: string,
  init: UtpSocketInit = {},
): Promise<{ a: UtpSocket; b: UtpSocket; close: () => Promise<void> }> {
  const a = await createUtpSocket({ host: hostA, ...init })
  const b = await createUtpSocket({ host: hostB, ...init })
  return { a, b, close: async () => void (await Promise.all([a.close(), b.close()])) }
}

/** Connects a → b and resolves with both ends. */
export async function connectPair(a: UtpSocket, b: UtpSocket): Promise<[UtpConnection, UtpConnection]> {
  const accepted = new Promise<UtpConnection>((resolve) => b.once('connection', resolve))
  const dialled = await a.connect(b.address().port, b.address().address)
  return [dialled, await withTimeout(accepted, 5000, 'accept')]
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** Reads a stream to its end; resolves with the byte count and SHA-1. */
export function hashStream(stream: Readable): Promise<{ bytes: number; sha1: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1')
    let bytes = 0
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
    })
    stream.once('end', () => resolve({ bytes, sha1: hash.digest('hex') }))
    stream.once('error', reject)
  })
}

export function sha1(data: Uint8Array): string {
  return createHash('sha1').update(data).digest('hex')
}

/** Writes `data` in `chunk`-sized pieces, honouring backpressure, then ends the stream. */
export async function writeAll(stream: Writable, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunk) {
    if (!stream.write(data.subarray(offset, offset + chunk))) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(error)
        stream.once('error', onError)
        stream.once('drain', () => {
          stream.off('error', onError)
          resolve()
        })
      })
    }
  }
  await new Promise<void>((resolve) => stream.end(resolve))
}

/**
 * Writes `total` pseudo-random bytes (AES-CTR keyed by `seed`) in 64 KiB chunks without holding them,
 * honouring backpressure, ends the stream and resolves with their SHA-1.
 */
export async function writeGenerated(stream: Writable, total: number, seed: string): Promise<string> {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32))
  const hash = createHash('sha1')
  const zeros = Buffer.alloc(64 * 1024)
  for (let sent = 0; sent < total; sent += zeros.length) {
    const chunk = cipher.update(zeros.subarray(0, Math.min(zeros.length, total - sent)))
    hash.update(chunk)
    if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve))
  }
  await new Promise<void>((resolve) => stream.end(resolve))
  return hash.digest('hex')
}
