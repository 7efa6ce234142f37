// The torrent the crash-safety child process writes: several files (one empty), pieces spanning them.
import { buildTorrent, type TestTorrent } from './torrent.js'

export function crashTorrent(): TestTorrent {
  return buildTorrent({
    name: 'crash',
    pieceLength: 16384,
    seed: 7,
    files: [
      { path: ['a.bin'], length: 1_500_000 },
      { path: ['empty'], length: 0 },
      { path: ['sub', 'c.bin'], length: 3_000_123 },
      { path: ['d.bin'], length: 400_000 },
    ],
  })
}
