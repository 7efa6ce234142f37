// `bt info <torrent|magnet>`: what a torrent holds, in the fixed format scripts parse.
import { parseMagnet, parseTorrent } from '@bt/metainfo'
import type { RegisterCommand } from '../context.js'
import { MAX_TORRENT_FILE_BYTES, readInputFile } from '../input.js'
import { writeJson, writeLines } from '../output.js'
import { detailLines, infoJson, magnetJson, magnetLines, requiredInfoLines } from '../torrent-summary.js'

export const registerInfo: RegisterCommand = (program, { io, signal }) => {
  program
    .command('info')
    .description(
      'show what a .torrent file (or a magnet link) holds: trackers, size, info hash, pieces, files',
    )
    .argument('<torrent>', 'a .torrent file, - to read one from stdin, or a magnet: link')
    .option('--json', 'print one JSON object instead of lines')
    .addHelpText(
      'after',
      `
Output for a .torrent, always these lines first and in this order:
  Tracker URL: <announce>     (the first announce-list tracker if there is no announce; empty if none)
  Length: <total bytes>
  Info Hash: <40 hex digits>
  Piece Length: <bytes>
  Piece Hashes:
  <40 hex digits>             (one line per piece)
then Name, Files (multi-file torrents: "  <length>  <path>" per file), Private, Comment,
Created By, Creation Date (ISO 8601), Web Seeds and Trackers ("  tier <n>: <url>"), when present.
Control characters in names and comments print as escapes (\\n, \\xNN).

--json prints one object on one line: infoHash, name, length, pieceLength, pieceCount,
pieceHashes, announce, announceList, multiFile, files [{path, length, padding}], private,
urlList, comment, createdBy, creationDate (ISO 8601); absent values are null.

For a magnet link (nothing is fetched): "Tracker URL: <first tr>" and "Info Hash: <40 hex>",
then Name, Trackers, Web Seeds and Peers when present; --json gives infoHash, name, trackers,
webSeeds, peers.

Example:
  $ bt info ubuntu.torrent | sed -n 's/^Info Hash: //p'`,
    )
    .action(async (source: string, options: { json?: boolean }) => {
      if (/^magnet:/i.test(source)) {
        const magnet = parseMagnet(source)
        if (options.json) writeJson(io.stdout, magnetJson(magnet))
        else writeLines(io.stdout, magnetLines(magnet))
        return
      }
      const meta = parseTorrent(await readInputFile(source, io, { maxBytes: MAX_TORRENT_FILE_BYTES, signal }))
      if (options.json) writeJson(io.stdout, infoJson(meta))
      else writeLines(io.stdout, [...requiredInfoLines(meta), ...detailLines(meta)])
    })
}
