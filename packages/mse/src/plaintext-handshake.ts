// How a plain BitTorrent handshake starts, `\x13BitTorrent protocol`: the receiver tells plaintext peers
// from MSE by it, and the initiator recognises a peer that answered its key with one.
import type { HandshakeReader } from './handshake-reader.js'

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')

/** Whether the unread bytes start a plain handshake; reads no more than the 20 bytes it needs. */
export async function startsPlaintextHandshake(reader: HandshakeReader): Promise<boolean> {
  // A random key starts with 19 once in 256 times: only then are all 20 bytes awaited.
  if ((await reader.peek(1))[0] !== PROTOCOL[0]) return false
  return (await reader.peek(PROTOCOL.length)).subarray(0, PROTOCOL.length).equals(PROTOCOL)
}
