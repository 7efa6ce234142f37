export {
  type ContentFileSpec,
  compareContent,
  listFiles,
  pseudoRandomBytes,
  writeContentTree,
} from './content.js'
export { describeWithTools, missingTools } from './external-tools.js'
export { type LibtorrentSeeder, makeTorrentWithLibtorrent, startLibtorrentSeeder } from './libtorrent.js'
export {
  type LibtorrentDht,
  type LibtorrentDhtInit,
  type LibtorrentDhtNode,
  startLibtorrentDht,
} from './libtorrent-dht.js'
export { type LoopbackNginx, startNginx } from './nginx.js'
export { acceptsTcp, freeTcpAndUdpPort } from './ports.js'
export { type StartedProcess, startProcess } from './processes.js'
export { type ProgramResult, runProgram, runProgramOk } from './programs.js'
export { type PeerProgramInit, type RunningPeer, startAria2, startTransmission } from './seeders.js'
export { withTempDir } from './temp-dir.js'
export { type LoopbackTracker, startBittorrentTracker, startOpentracker } from './trackers.js'
