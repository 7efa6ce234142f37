// `torrent-add` with an http(s) URL: the server fetches the `.torrent` itself, bounded in size and
// time, and only over http(s) (redirects included), so a client cannot make it read anything else.
import { RpcFetchError } from './errors.js'

export interface FetchTorrentOptions {
  /** Default 10 MiB. */
  readonly maxBytes?: number
  /** Default 30 000. */
  readonly timeoutMs?: number
}

export async function fetchTorrentFile(url: string, options: FetchTorrentOptions = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000)
  let response: Response
  try {
    response = await fetch(url, { signal, redirect: 'follow' })
  } catch (error) {
    throw fetchFailure(url, error, signal)
  }
  if (!/^https?:$/.test(new URL(response.url || url).protocol)) {
    throw new RpcFetchError('failed', url, 'redirected away from http(s)')
  }
  if (!response.ok) {
    await response.body?.cancel()
    throw new RpcFetchError('bad-status', url, `HTTP ${response.status}`)
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await response.body?.cancel()
    throw new RpcFetchError('too-large', url, `larger than ${maxBytes} bytes`)
  }
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for await (const chunk of response.body ?? []) {
      total += chunk.byteLength
      if (total > maxBytes) {
        await response.body?.cancel()
        throw new RpcFetchError('too-large', url, `larger than ${maxBytes} bytes`)
      }
      chunks.push(chunk)
    }
  } catch (error) {
    if (error instanceof RpcFetchError) throw error
    throw fetchFailure(url, error, signal)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

function fetchFailure(url: string, error: unknown, signal: AbortSignal): RpcFetchError {
  if (signal.aborted) return new RpcFetchError('timeout', url, 'timed out', { cause: error })
  const message = error instanceof Error ? error.message : String(error)
  return new RpcFetchError('failed', url, message, { cause: error })
}
