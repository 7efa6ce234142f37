// The client's sockets are unref'd: a script that never calls close() still exits once its last
// request is answered, and does not exit while a request is pending.
import { fileURLToPath } from 'node:url'
import { startProcess } from '@bt/test-helpers'
import { afterEach, expect, it } from 'vitest'
import { type HostileTracker, politeResponder, startHostileTracker } from './hostile-tracker.js'

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url))
let server: HostileTracker | undefined

afterEach(async () => {
  await server?.close()
})

it('lets the process exit without close(), but only after the pending answer arrived', async () => {
  server = await startHostileTracker()
  const polite = politeResponder()
  // Slow enough that an unref'd wait would let the process exit before the answer.
  server.respond = (request, reply) => setTimeout(() => polite(request, reply), 300)
  const script = `
    import { createUdpTrackerClient } from ${JSON.stringify(entry)}
    const client = createUdpTrackerClient({ retransmitBaseMs: 2000, maxRetransmits: 1 })
    const params = { infoHash: new Uint8Array(20), peerId: new Uint8Array(20), port: 1, uploaded: 0, downloaded: 0, left: 1 }
    const response = await client.announce(${JSON.stringify(server.url())}, params)
    console.log('seeders ' + response.seeders)
  `
  const child = startProcess(
    process.execPath,
    ['--conditions=@bt/source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)) },
  )
  const timer = setTimeout(() => void child.stop(), 15_000)
  const code = await child.exited
  clearTimeout(timer)
  expect(child.output()).toContain('seeders 3')
  expect(code).toBe(0)
  expect(server.requests.map((r) => r.action)).toEqual([0, 1])
})
