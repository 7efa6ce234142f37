// Interop tests need real programs (mktorrent, libtorrent, opentracker…). In CI they are installed by
// `.ci/run` and a missing one is a failure; elsewhere the suite is skipped with its reason in its name.
import { spawnSync } from 'node:child_process'
import { describe, it } from 'vitest'

/** A tool is either a command on PATH or a Python module importable by Debian's python3 (`py:libtorrent`). */
function isAvailable(tool: string): boolean {
  if (tool.startsWith('py:')) {
    return spawnSync('/usr/bin/python3', ['-c', `import ${tool.slice(3)}`], { stdio: 'ignore' }).status === 0
  }
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0
}

export function missingTools(tools: readonly string[]): string[] {
  return tools.filter((tool) => !isAvailable(tool))
}

export function describeWithTools(tools: readonly string[], name: string, body: () => void): void {
  const missing = missingTools(tools)
  if (missing.length === 0) {
    describe(name, body)
    return
  }
  const reason = `needs ${missing.join(', ')} (installed by .ci/run)`
  if (process.env.CI) {
    describe(name, () => {
      it('has its external tools installed', () => {
        throw new Error(`${name}: ${reason}`)
      })
    })
    return
  }
  console.warn(`[skipped] ${name}: ${reason}`)
  describe.skip(`${name} [skipped: ${reason}]`, body)
}
