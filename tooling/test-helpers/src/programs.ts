// Runs the real consumers (curl, ffmpeg, ffprobe) with a bound on time and no proxy from the
// environment, so they talk to our loopback server directly.
import { execFile } from 'node:child_process'

const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/_proxy$/i.test(key)))

export interface ProgramResult {
  readonly code: number
  readonly stdout: Buffer
  readonly stderr: string
}

export function runProgram(
  command: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env, timeout: timeoutMs, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        if (error?.killed) reject(new Error(`${command} ${args.join(' ')} timed out: ${stderr}`))
        else resolve({ code, stdout, stderr: stderr.toString('utf8') })
      },
    )
  })
}

/** Like `runProgram`, but a non-zero exit is a failure that shows the program's stderr. */
export async function runProgramOk(
  command: string,
  args: readonly string[],
  timeoutMs?: number,
): Promise<Buffer> {
  const result = await runProgram(command, args, timeoutMs)
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return result.stdout
}
