export { describeWithTools, missingTools } from './external-tools.js'
export { type StartedProcess, startProcess } from './processes.js'
export { withTempDir } from './temp-dir.js'
