import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { commands, commandsFor } from './index.js'

const context = { io: undefined as never, signal: new AbortController().signal }

/** Every name and alias `register` functions add to a program. */
function namesOf(registers: Awaited<ReturnType<typeof commandsFor>>): string[] {
  const program = new Command('bt')
  for (const register of registers) register(program, context)
  return program.commands.flatMap((command) => [command.name(), ...command.aliases()])
}

describe('the command table', () => {
  it.each(commands.map((entry) => [entry.names[0], entry] as const))(
    'names exactly what the %s module registers',
    async (_name, entry) => {
      expect(namesOf(await entry.load()).sort()).toEqual([...entry.names].sort())
    },
  )

  it('loads one module for a known command and all of them otherwise', async () => {
    expect(namesOf(await commandsFor(['magnet-info', 'x.torrent'])).sort()).toEqual([
      'info',
      'magnet-info',
      'magnet_info',
    ])
    const all = commands.flatMap((entry) => entry.names)
    expect(namesOf(await commandsFor(['--help'])).sort()).toEqual([...all].sort())
    expect(namesOf(await commandsFor(['nonsense'])).length).toBe(all.length)
  })
})
