// `bt handshake <torrent> <ip:port>`: one BitTorrent handshake with one peer; prints its peer id.
import { generatePeerId } from '@bt/client-core'
import { parseTorrent } from '@bt/metainfo'
import { connectPeer, reservedBytes } from '@bt/peer-wire'
import { parsePeer } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from '../input.js'
import { toHex, writeLines } from '../output.js'

export const registerHandshake: RegisterCommand = (program, { io, signal }) => {
  program
    .command('handshake')
    .description('connect to one peer, exchange handshakes and print its peer id')
    .argument('<torrent>', 'a .torrent file, or - to read one from stdin')
    .argument('<peer>', 'the peer as ip:port or [ipv6]:port', parsePeer)
    .addHelpText(
      'after',
      `
Output: "Peer ID: <40 hex digits>".
The handshake's reserved bytes are exactly 00 00 00 00 00 10 00 00 (extension protocol only); when the
peer supports it too, the extension handshake follows as the first message.`,
    )
    .action(async (source: string, peer: { host: string; port: number }) => {
      const meta = parseTorrent(await readInputFile(source, io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal }))
      const conn = await connectPeer(
        peer,
        {
          infoHash: meta.infoHashBytes,
          peerId: generatePeerId(),
          pieceCount: meta.pieceCount,
          reserved: reservedBytes({ extended: true }),
        },
        { signal },
      )
      conn.close()
      writeLines(io.stdout, [`Peer ID: ${toHex(conn.remotePeerId)}`])
    })
}
