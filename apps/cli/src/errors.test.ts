import { readFile } from 'node:fs/promises'
import { CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import { CliError, ExitCode, exitCodeFor, formatError, systemErrorReason, UsageError } from './errors.js'

async function enoent(): Promise<Error> {
  return readFile('/nonexistent/bt-test').then(
    () => {
      throw new Error('expected ENOENT')
    },
    (err: Error) => err,
  )
}

describe('exitCodeFor', () => {
  it('maps usage errors to 2, help and version to 0, anything else to 1', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x'))).toBe(ExitCode.usage)
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'x'))).toBe(ExitCode.ok)
    expect(exitCodeFor(new UsageError('x'))).toBe(ExitCode.usage)
    expect(exitCodeFor(new CliError('x'))).toBe(ExitCode.failure)
    expect(exitCodeFor(new TypeError('x'))).toBe(ExitCode.failure)
  })

  it('reports an interrupted command as 130', () => {
    const controller = new AbortController()
    controller.abort()
    expect(exitCodeFor(new Error('aborted'), controller.signal)).toBe(ExitCode.interrupted)
  })
})

describe('formatError', () => {
  it('prints bt: and the message, with the stack only when debugging', () => {
    const err = new CliError('it broke')
    expect(formatError(err, { debug: false })).toBe('bt: it broke\n')
    expect(formatError(err, { debug: true })).toMatch(/^bt: it broke\nCliError: it broke\n\s+at /)
  })

  it('shows the causes when debugging', () => {
    const err = new CliError('outer', { cause: new RangeError('inner') })
    expect(formatError(err, { debug: true })).toMatch(
      /^bt: outer\nCliError: outer\n[\s\S]*\nCaused by: RangeError: inner\n/,
    )
  })

  it('turns a system error into its path and reason', async () => {
    const err = await enoent()
    expect(systemErrorReason(err)).toBe('no such file or directory')
    expect(formatError(err, { debug: false })).toBe('bt: /nonexistent/bt-test: no such file or directory\n')
  })

  it('prints thrown non-errors too', () => {
    expect(formatError('plain', { debug: false })).toBe('bt: plain\n')
  })
})
