// Runs `bt` commands in-process with captured output, and as a real subprocess from sources.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { CliIo } from '../src/context.js'
import { runCli } from '../src/program.js'

export interface BtResult {
  code: number
  stdout: string
  stderr: string
}

export const cliRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
export const repoRoot = join(cliRoot, '..', '..')
export const fixture = (name: string) => join(cliRoot, 'test', 'fixtures', name)

export async function runBt(
  args: readonly string[],
  options: {
    cwd?: string
    stdin?: Uint8Array
    env?: Record<string, string>
    tty?: boolean
    signal?: AbortSignal
  } = {},
): Promise<BtResult> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    stderrIsTTY: options.tty ?? false,
    cwd: options.cwd ?? cliRoot,
    env: options.env ?? {},
    readStdin: async (maxBytes) => (options.stdin ?? new Uint8Array()).subarray(0, maxBytes + 1),
  }
  const code = await runCli(args, io, { signal: options.signal })
  return { code, stdout, stderr }
}

// tsx is a root devDependency: resolved from the repository root, whatever cwd the test gives bt.
export const tsxLoader = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href

/** The real executable, from sources: proves exit codes and stdout as a shell sees them. */
export function spawnBt(
  args: readonly string[],
  options: { cwd?: string; stdin?: Uint8Array; env?: NodeJS.ProcessEnv } = {},
): Promise<BtResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@bt/source', '--import', tsxLoader, join(cliRoot, 'src', 'bt.ts'), ...args],
      { cwd: options.cwd ?? cliRoot, env: { ...process.env, ...options.env }, stdio: 'pipe' },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    child.stdin.end(options.stdin ?? new Uint8Array())
  })
}
