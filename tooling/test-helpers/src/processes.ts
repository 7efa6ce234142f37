// External programs run in their own process group so a test can stop exactly what it started.
import { type ChildProcess, spawn } from 'node:child_process'

export interface StartedProcess {
  readonly child: ChildProcess
  /** Everything the process wrote so far (stdout and stderr interleaved), for failure messages. */
  output(): string
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>
  stop(): Promise<void>
}

export function startProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe' } = {},
): StartedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000)
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', (err) => {
      append(Buffer.from(String(err)))
      resolve(null)
    })
  })
  return {
    child,
    output: () => log,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {
        return
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }, 3000)
      await exited
      clearTimeout(timer)
    },
  }
}
