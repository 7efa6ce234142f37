export { contentTypeFor, DEFAULT_CONTENT_TYPE } from './content-type.js'
export {
  InvalidStreamSourceError,
  type InvalidStreamSourceReason,
  NonLoopbackHostError,
  StreamReadError,
  type StreamReadErrorReason,
} from './errors.js'
export {
  contentRange,
  decideRange,
  type FullReason,
  ifRangeMatches,
  parseRange,
  type RangeDecision,
} from './range.js'
export {
  createStreamServer,
  DEFAULT_HOST,
  isLoopbackHost,
  type StreamServer,
  type StreamServerInit,
} from './server.js'
export type { StreamFile, StreamSource } from './source.js'
