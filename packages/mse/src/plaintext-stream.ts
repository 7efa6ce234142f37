// After a plaintext crypto_select, or a plain BitTorrent handshake, the socket itself carries the
// payload: the bytes the handshake read past its end go back to the front of its read buffer, untouched.
import type { Duplex } from 'node:stream'

export function plaintextStream(socket: Duplex, ...unread: Uint8Array[]): Duplex {
  const bytes = Buffer.concat(unread.filter((part) => part.length > 0))
  if (bytes.length > 0) socket.unshift(bytes)
  return socket
}
