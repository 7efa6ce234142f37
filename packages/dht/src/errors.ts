// One class per failure of the DHT node. Callers match on `name` (it survives duplicated installs).

/** An argument to `createDht` or to a call was out of range (a 19-byte info hash, port 0…). */
export class DhtArgumentError extends Error {
  override readonly name = 'DhtArgumentError'
  readonly argument: string

  constructor(argument: string, reason: string) {
    super(`dht: invalid ${argument}: ${reason}`)
    this.argument = argument
  }
}

/** The node was closed before or while the call ran. */
export class DhtClosedError extends Error {
  override readonly name = 'DhtClosedError'

  constructor() {
    super('dht: the node is closed')
  }
}

/** Binding the UDP socket failed; `cause` holds the system error. */
export class DhtBindError extends Error {
  override readonly name = 'DhtBindError'
  readonly host: string
  readonly port: number

  constructor(host: string, port: number, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(`dht: cannot bind udp ${host}:${port}: ${detail}`, { cause })
    this.host = host
    this.port = port
  }
}

/** A query went unanswered within the hard timeout, or the send budget refused it. */
export class DhtQueryTimeoutError extends Error {
  override readonly name = 'DhtQueryTimeoutError'
  readonly method: string
  readonly address: string
  /** `timeout`: no answer in time; `send-budget`: our own rate limits refused to send it. */
  readonly reason: 'timeout' | 'send-budget'

  constructor(method: string, address: string, reason: 'timeout' | 'send-budget') {
    super(
      `dht: ${method} to ${address}: ${reason === 'timeout' ? 'no answer in time' : 'over our send budget'}`,
    )
    this.method = method
    this.address = address
    this.reason = reason
  }
}

/** A remote node answered a query with a KRPC error (`e`). */
export class DhtRemoteError extends Error {
  override readonly name = 'DhtRemoteError'
  readonly code: number
  readonly remoteMessage: string

  constructor(code: number, remoteMessage: string) {
    super(`dht: remote error ${code}: ${remoteMessage}`)
    this.code = code
    this.remoteMessage = remoteMessage
  }
}

/** A saved state file could not be read or is not a DHT state. */
export class DhtStateError extends Error {
  override readonly name = 'DhtStateError'
  readonly path: string

  constructor(path: string, reason: string, cause?: unknown) {
    super(`dht: state file ${path}: ${reason}`, cause === undefined ? undefined : { cause })
    this.path = path
  }
}
