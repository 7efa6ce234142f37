// A tiny HTTP client over node:http for the tests: unlike fetch it can send any Host header and a
// body larger than it declares.
import { type IncomingHttpHeaders, request } from 'node:http'

export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: false,
    })
    req.once('response', async (res) => {
      const chunks: Buffer[] = []
      try {
        for await (const chunk of res) chunks.push(chunk as Buffer)
      } catch (error) {
        reject(error)
        return
      }
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })
    })
    req.once('error', reject)
    req.end(options.body)
  })
}
