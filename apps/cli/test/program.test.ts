import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cliRoot, runBt } from './run-bt.js'

const { version } = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as { version: string }

describe('bt', () => {
  it('prints its version', async () => {
    expect(await runBt(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
    expect(await runBt(['-V'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('documents every command and the exit codes in --help', async () => {
    const { code, stdout, stderr } = await runBt(['--help'])
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    for (const command of ['info', 'create', 'decode', 'help'])
      expect(stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'))
    expect(stdout).toContain('Exit codes: 0 success, 1 failure')
    expect(stdout).toContain('BT_DEBUG=1')
  })

  it.each(['info', 'create', 'decode'])(
    'documents %s with --help and with help <command>',
    async (command) => {
      const help = await runBt([command, '--help'])
      expect(help.code).toBe(0)
      expect(help.stdout).toMatch(new RegExp(`^Usage: bt ${command} `))
      expect(help.stdout).toContain('Example')
      expect(await runBt(['help', command])).toEqual(help)
    },
  )

  it('prints help on stderr and exits 2 without a command', async () => {
    const { code, stdout, stderr } = await runBt([])
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' })
    expect(stderr).toMatch(/^Usage: bt /)
  })

  it.each([
    [['fetch'], "bt: unknown command 'fetch'"],
    [['infoo', 'x.torrent'], '(Did you mean info?)'],
    [['--bogus'], "bt: unknown option '--bogus'"],
    [['decode', 'i1e', 'i2e'], "bt: too many arguments for 'decode'"],
    [['info'], "bt: missing required argument 'torrent'"],
    [['create', 'x', '-t'], "bt: option '-t, --tracker <url[,url…]>' argument missing"],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const { code, stdout, stderr } = await runBt(args)
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' })
    expect(stderr).toContain(message)
    expect(stderr).toContain('(run with --help for usage)')
  })
})
