export {
  type ConnectionOptions,
  DEFAULT_CONNECTION_OPTIONS,
  type UtpConnection,
  type UtpConnectionStats,
} from './connection.js'
export {
  UtpArgumentError,
  UtpBindError,
  UtpConnectionRefusedError,
  UtpConnectionResetError,
  UtpConnectTimeoutError,
  UtpSocketClosedError,
  UtpTimeoutError,
} from './errors.js'
export { isUtpPacket } from './packet.js'
export {
  createUtpSocket,
  MAX_PACKET_SIZE,
  type UtpConnectOptions,
  type UtpSharedDatagrams,
  type UtpSocket,
  type UtpSocketEvents,
  type UtpSocketInit,
} from './socket.js'
