// One class per failure of a uTP socket or connection. Callers match on `name` (it survives duplicated
// installs); the Node-style `code` lets stream code that knows TCP errors treat them alike.

/** An argument was out of range (a port of 70000, a packet size below the header…). */
export class UtpArgumentError extends Error {
  override readonly name = 'UtpArgumentError'
  readonly argument: string

  constructor(argument: string, reason: string) {
    super(`utp: invalid ${argument}: ${reason}`)
    this.argument = argument
  }
}

/** Binding the UDP socket failed; `cause` holds the system error. */
export class UtpBindError extends Error {
  override readonly name = 'UtpBindError'
  readonly host: string
  readonly port: number

  constructor(host: string, port: number, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(`utp: cannot bind udp ${host}:${port}: ${detail}`, { cause })
    this.host = host
    this.port = port
  }
}

/** The socket was closed before or while the call ran. */
export class UtpSocketClosedError extends Error {
  override readonly name = 'UtpSocketClosedError'
  readonly code = 'ERR_SOCKET_CLOSED'

  constructor() {
    super('utp: the socket is closed')
  }
}

/** The SYN went unanswered within the connect timeout (nothing listens there, or it drops uTP). */
export class UtpConnectTimeoutError extends Error {
  override readonly name = 'UtpConnectTimeoutError'
  readonly code = 'ETIMEDOUT'
  readonly host: string
  readonly port: number

  constructor(host: string, port: number, timeoutMs: number) {
    super(`utp: connecting to ${host}:${port} timed out after ${timeoutMs} ms`)
    this.host = host
    this.port = port
  }
}

/** The peer answered our SYN with ST_RESET: it speaks uTP but does not accept the connection. */
export class UtpConnectionRefusedError extends Error {
  override readonly name = 'UtpConnectionRefusedError'
  readonly code = 'ECONNREFUSED'
  readonly host: string
  readonly port: number

  constructor(host: string, port: number) {
    super(`utp: ${host}:${port} refused the connection`)
    this.host = host
    this.port = port
  }
}

/** The peer reset an established connection (ST_RESET). */
export class UtpConnectionResetError extends Error {
  override readonly name = 'UtpConnectionResetError'
  readonly code = 'ECONNRESET'

  constructor(host: string, port: number) {
    super(`utp: ${host}:${port} reset the connection`)
  }
}

/** The peer stopped answering: too many retransmission timeouts in a row, or silent past the idle limit. */
export class UtpTimeoutError extends Error {
  override readonly name = 'UtpTimeoutError'
  readonly code = 'ETIMEDOUT'
  readonly reason: 'retransmissions' | 'idle'

  constructor(host: string, port: number, reason: 'retransmissions' | 'idle') {
    super(
      reason === 'idle'
        ? `utp: ${host}:${port} has been silent past the idle timeout`
        : `utp: ${host}:${port} stopped acknowledging (too many retransmission timeouts)`,
    )
    this.reason = reason
  }
}
