// `bt daemon` as the daemon tests run it: a real process from sources on a free RPC port, and Debian's
// transmission-remote 3.00 talking to it, with its `-l` rows parsed.
import { runProgram } from '@bt/test-helpers'
import { expect } from 'vitest'
import { type BtProcess, sleep, spawnBtProcess } from './swarm.js'

/** One row of `transmission-remote -l`. */
export interface RemoteRow {
  id: number
  /** `100%`, `42%`, or `n/a`. */
  done: string
  status: string
  name: string
}

export function remoteRows(list: string): RemoteRow[] {
  const out: RemoteRow[] = []
  for (const line of list.split('\n')) {
    const match =
      /^\s+(\d+)\*?\s+(\S+%|n\/a)\s+.*?\s(Downloading|Seeding|Stopped|Idle|Up & Down|Finished|Verifying|Will Verify|Queued)\s+(.+)$/.exec(
        line,
      )
    if (match) out.push({ id: Number(match[1]), done: match[2]!, status: match[3]!, name: match[4]! })
  }
  return out
}

export interface RunningDaemon {
  readonly process: BtProcess
  readonly rpcPort: number
  /** transmission-remote with these arguments; its exit code must be 0. */
  remote(...args: string[]): Promise<string>
  rows(): Promise<RemoteRow[]>
  /** One RPC call over HTTP, as a client without transmission-remote's option for it would make it. */
  rpc(
    method: string,
    args?: Record<string, unknown>,
  ): Promise<{ result: string; arguments: Record<string, unknown> }>
  /** Polls `-l` until a row passes `test`. */
  waitForRow(test: (row: RemoteRow) => boolean, what: string, timeoutMs?: number): Promise<RemoteRow>
}

/** `bt daemon --state-dir … --download-dir … --rpc-port 0 --port 0 --no-dht`, once it printed its RPC line. */
export async function startDaemon(init: {
  stateDir: string
  downloadDir: string
  cwd: string
}): Promise<RunningDaemon> {
  const process = spawnBtProcess(
    [
      ...['daemon', '--state-dir', init.stateDir, '--download-dir', init.downloadDir],
      ...['--rpc-port', '0', '--port', '0', '--no-dht'],
    ],
    { cwd: init.cwd },
  )
  let rpcPort = 0
  const deadline = Date.now() + 30_000
  for (;;) {
    const match = /RPC on http:\/\/127\.0\.0\.1:(\d+)\/transmission\/rpc/.exec(process.output().stdout)
    if (match) {
      rpcPort = Number(match[1])
      break
    }
    if (Date.now() > deadline) throw new Error(`no RPC line:\n${process.output().stderr}`)
    await sleep(50)
  }
  const remote = async (...args: string[]): Promise<string> => {
    const result = await runProgram('transmission-remote', [`127.0.0.1:${rpcPort}`, ...args], 15_000)
    const stdout = result.stdout.toString('utf8')
    expect(result.code, `transmission-remote ${args.join(' ')}: ${result.stderr}${stdout}`).toBe(0)
    return stdout
  }
  const rows = async () => remoteRows(await remote('-l'))
  let sessionId = ''
  const rpc = async (method: string, args: Record<string, unknown> = {}) => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(`http://127.0.0.1:${rpcPort}/transmission/rpc`, {
        method: 'POST',
        headers: { 'X-Transmission-Session-Id': sessionId, 'Content-Type': 'application/json' },
        body: JSON.stringify({ method, arguments: args }),
      })
      if (response.status === 409) {
        sessionId = response.headers.get('X-Transmission-Session-Id') ?? ''
        continue
      }
      expect(response.status).toBe(200)
      return (await response.json()) as { result: string; arguments: Record<string, unknown> }
    }
    throw new Error('the daemon kept answering 409')
  }
  return {
    process,
    rpcPort,
    remote,
    rows,
    rpc,
    async waitForRow(test, what, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const row = (await rows()).find(test)
        if (row) return row
        if (Date.now() > until) throw new Error(`no row where ${what}:\n${await remote('-l')}`)
        await sleep(250)
      }
    },
  }
}
