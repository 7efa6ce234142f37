// Azureus-style peer ids (`-BT0001-` + 12 random bytes), as DESIGN §3 fixes for this client.
import { randomBytes } from 'node:crypto'

/** The client's version in peer-id form: four characters, `0001` for 0.0.0.1 style numbering. */
export const PEER_ID_PREFIX = '-BT0001-'

/** The client name and version our BEP 10 handshakes carry (`v`). */
export const CLIENT_NAME = 'bt 0.1.0'

export function generatePeerId(): Uint8Array {
  const id = new Uint8Array(20)
  id.set(new TextEncoder().encode(PEER_ID_PREFIX), 0)
  id.set(randomBytes(12), 8)
  return id
}
