// `bt peers <torrent>`: asks the torrent's trackers (HTTP and UDP, tier by tier) for peers and prints
// the first answer, one `ip:port` per line.
import { AllTrackersFailedError, announceOnce, createTrackerTransport, generatePeerId } from '@bt/client-core'
import { parseTorrent } from '@bt/metainfo'
import { formatPeerAddress } from '@bt/peer-address'
import { parsePort, parseSeconds } from '../arg-parsers.js'
import type { RegisterCommand } from '../context.js'
import { CliError } from '../errors.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from '../input.js'
import { writeJson, writeLines } from '../output.js'

export const registerPeers: RegisterCommand = (program, { io, signal }) => {
  program
    .command('peers')
    .description("ask the torrent's trackers for peers and print them, one ip:port per line")
    .argument('<torrent>', 'a .torrent file, or - to read one from stdin')
    .option('--json', 'print the answering tracker and its full response as one JSON object')
    .option('--port <port>', 'the listen port to announce', parsePort, 6881)
    .option('--timeout <seconds>', 'how long to wait for each tracker', parseSeconds, 15)
    .addHelpText(
      'after',
      `
Trackers are tried in announce-list order (tier by tier; announce alone if there is no list) until one
answers; HTTP(S) and UDP trackers both work. The announce asks for compact peer lists and reports
left = the torrent's size, so the tracker counts us as a leecher.

Output: one line per peer, "1.2.3.4:6881" or "[::1]:6881".
--json: {"tracker": <url>, "interval": s, "minInterval": s|null, "seeders": n|null, "leechers": n|null,
         "warning": text|null, "peers": ["ip:port", ...]}
When every tracker fails, each tracker's error is printed on stderr and the exit code is 1.`,
    )
    .action(async (source: string, options: { json?: boolean; port: number; timeout: number }) => {
      const meta = parseTorrent(await readInputFile(source, io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal }))
      const transport = createTrackerTransport()
      try {
        const response = await announceOnce(
          meta.announceList,
          {
            infoHash: meta.infoHashBytes,
            peerId: generatePeerId(),
            port: options.port,
            uploaded: 0,
            downloaded: 0,
            left: meta.length,
            numwant: 200,
            key: Math.floor(Math.random() * 0xffffffff),
          },
          transport,
          { signal, requestTimeoutMs: options.timeout * 1000 },
        )
        const peers = response.peers.map(formatPeerAddress)
        if (options.json) {
          writeJson(io.stdout, {
            tracker: response.url,
            interval: response.interval,
            minInterval: response.minInterval ?? null,
            seeders: response.seeders ?? null,
            leechers: response.leechers ?? null,
            warning: response.warning ?? null,
            peers,
          })
        } else {
          writeLines(io.stdout, peers)
        }
      } catch (error) {
        if (!(error instanceof AllTrackersFailedError) || signal.aborted) throw error
        for (const { url, error: cause } of error.failures) io.stderr(`bt: ${url}: ${cause.message}\n`)
        throw new CliError(
          error.failures.length === 0
            ? 'the torrent lists no trackers'
            : `all ${error.failures.length} trackers failed`,
        )
      } finally {
        await transport.close()
      }
    })
}
