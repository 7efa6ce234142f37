import { EventEmitter } from 'node:events'
import type { Alert } from '@bt/client-core'
import { describe, expect, it } from 'vitest'
import { alertJson, reportAlerts } from './alert-output.js'
import type { CliIo } from './context.js'

function capture(tty = false) {
  const out = { stdout: '', stderr: '' }
  const io: CliIo = {
    stdout: (text) => {
      out.stdout += text
    },
    stderr: (text) => {
      out.stderr += text
    },
    stderrIsTTY: tty,
    cwd: '/',
    env: {},
    readStdin: async () => new Uint8Array(),
  }
  return { io, out }
}

const banned: Alert = {
  type: 'peer-banned',
  address: { host: '2001:db8::1', port: 6881 },
  reason: 'corrupt-data',
  detail: 'sent a corrupt block of piece 3',
}
const unreachable: Alert = {
  type: 'peers-unreachable',
  known: 3,
  failures: { connect: 0, handshake: 3, protocol: 0 },
}

describe('alertJson', () => {
  it('names the event by the alert type, addresses as ip:port, errors by their message', () => {
    expect(alertJson(banned)).toEqual({
      event: 'peer-banned',
      message: 'banned peer [2001:db8::1]:6881 (corrupt-data): sent a corrupt block of piece 3',
      address: '[2001:db8::1]:6881',
      reason: 'corrupt-data',
      detail: 'sent a corrupt block of piece 3',
    })
    expect(
      alertJson({ type: 'piece-failed', index: 2, peers: [{ host: '127.0.0.2', port: 1 }] }),
    ).toMatchObject({ peers: ['127.0.0.2:1'] })
    expect(
      alertJson({ type: 'tracker-failed', url: 'http://t/announce', error: new Error('refused') }),
    ).toMatchObject({ url: 'http://t/announce', error: 'refused' })
  })
})

describe('reportAlerts', () => {
  it('--json: one line per alert', () => {
    const { io, out } = capture()
    const source = new EventEmitter<{ alert: [Alert] }>()
    reportAlerts(source, io, 'json')
    source.emit('alert', banned)
    source.emit('alert', unreachable)
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).event),
    ).toEqual(['peer-banned', 'peers-unreachable'])
    expect(out.stderr).toBe('')
  })

  it('for people: bans and a stuck swarm on stderr, a disconnection not at all', () => {
    const { io, out } = capture()
    const source = new EventEmitter<{ alert: [Alert] }>()
    reportAlerts(source, io, 'human')
    source.emit('alert', {
      type: 'peer-disconnected',
      address: { host: '127.0.0.1', port: 1 },
      error: new Error('x'),
    })
    source.emit('alert', unreachable)
    expect(out.stderr).toBe(
      'bt: all 3 known peers closed the connection during the handshake (they may require encryption or uTP)\n',
    )
    expect(out.stdout).toBe('')
  })

  it('on a terminal the progress line is cleared first; quiet shows nothing', () => {
    const tty = capture(true)
    const source = new EventEmitter<{ alert: [Alert] }>()
    reportAlerts(source, tty.io, 'human')
    source.emit('alert', banned)
    expect(tty.out.stderr.startsWith('\r\x1b[2Kbt: banned peer')).toBe(true)
    const quiet = capture()
    const other = new EventEmitter<{ alert: [Alert] }>()
    reportAlerts(other, quiet.io, 'quiet')
    other.emit('alert', banned)
    expect(quiet.out).toEqual({ stdout: '', stderr: '' })
  })
})
