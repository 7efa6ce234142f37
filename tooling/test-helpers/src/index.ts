export { describeWithTools, missingTools } from './external-tools.js'
export { type StartedProcess, startProcess } from './processes.js'
export { withTempDir } from './temp-dir.js'
export {
  freeTcpAndUdpPort,
  type LoopbackTracker,
  startBittorrentTracker,
  startOpentracker,
} from './trackers.js'
