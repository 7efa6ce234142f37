// The package's error classes, one per condition. Callers match on `err.name`, which survives
// duplicated installs.

/** `createRpcServer` was asked to bind an address that is not loopback without `auth` (DESIGN §6). */
export class RpcInsecureBindError extends Error {
  override readonly name = 'RpcInsecureBindError'
  /** The host as given, or the address it resolved to when the name itself looked local. */
  readonly host: string

  constructor(host: string) {
    super(
      `transmission-rpc: refusing to listen on ${JSON.stringify(host)} without credentials: ` +
        'it is not a loopback address, so every machine that reaches it could drive the session (pass auth: { username, password })',
    )
    this.host = host
  }
}

export type RpcArgumentErrorReason = 'invalid-argument' | 'invalid-ids'

/** A request's arguments are malformed; its message becomes the RPC answer's `result`. */
export class RpcArgumentError extends Error {
  override readonly name = 'RpcArgumentError'
  readonly reason: RpcArgumentErrorReason

  constructor(reason: RpcArgumentErrorReason, message: string) {
    super(message)
    this.reason = reason
  }
}

export type RpcFetchErrorReason = 'bad-status' | 'too-large' | 'timeout' | 'failed'

/** `torrent-add` of an http(s) URL could not fetch a `.torrent` from it. */
export class RpcFetchError extends Error {
  override readonly name = 'RpcFetchError'
  readonly reason: RpcFetchErrorReason
  readonly url: string

  constructor(reason: RpcFetchErrorReason, url: string, message: string, options: { cause?: unknown } = {}) {
    super(`could not fetch ${url}: ${message}`, { cause: options.cause })
    this.reason = reason
    this.url = url
  }
}
