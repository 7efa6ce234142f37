import { createSocket, type RemoteInfo } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { bootstrapRouters, createDht, DEFAULT_BOOTSTRAP, type DhtSocket } from './dht.js'

describe('bootstrap routers', () => {
  it('never uses the public routers under vitest or CI', () => {
    expect(process.env.VITEST).toBeTruthy()
    expect(bootstrapRouters({})).toEqual([])
    expect(bootstrapRouters({}, { CI: 'true' })).toEqual([])
    expect(bootstrapRouters({}, { VITEST: 'true' })).toEqual([])
  })

  it('uses the public routers only when nothing is configured', () => {
    expect(bootstrapRouters({}, {})).toBe(DEFAULT_BOOTSTRAP)
    expect(bootstrapRouters({ bootstrap: ['127.0.0.2:6881'] }, {})).toEqual(['127.0.0.2:6881'])
    expect(bootstrapRouters({ bootstrap: [] }, {})).toEqual([])
    expect(bootstrapRouters({ nodes: [{ host: '127.0.0.2', port: 1 }] }, {})).toEqual([])
    expect(
      bootstrapRouters(
        { state: { id: '0'.repeat(40), nodes: [{ id: '1'.repeat(40), host: '127.0.0.2', port: 1 }] } },
        {},
      ),
    ).toEqual([])
  })

  it('a node started with no bootstrap under test sends nothing and is ready with an empty table', async () => {
    const dht = createDht({ host: '127.0.0.1', port: 0 })
    const ready = new Promise<{ nodes: number }>((resolve) => dht.once('ready', resolve))
    await dht.start()
    expect(await ready).toEqual({ nodes: 0 })
    expect(dht.stats().queriesSent).toBe(0)
    await dht.close()
  })
})

describe('createDht', () => {
  it('refuses malformed bootstrap entries and node ids', () => {
    expect(() => createDht({ bootstrap: ['router.example'] })).toThrow(
      expect.objectContaining({ name: 'DhtArgumentError' }),
    )
    expect(() => createDht({ bootstrap: ['[::1]:0'] })).toThrow(/not host:port/)
    expect(() => createDht({ nodeId: new Uint8Array(19) })).toThrow(/20 bytes/)
    expect(() => createDht({ bootstrap: ['[::1]:6881', 'router.example:6881'] })).not.toThrow()
  })

  it('reports a bind failure as DhtBindError', async () => {
    const first = createDht({ host: '127.0.0.1', port: 0 })
    await first.start()
    const second = createDht({ host: '127.0.0.1', port: first.address()!.port })
    await expect(second.start()).rejects.toMatchObject({ name: 'DhtBindError' })
    await Promise.all([first.close(), second.close()])
  })

  it('listen binds without the bootstrap; start then bootstraps on the same sockets', async () => {
    // A router that never answers: the bootstrap would wait, listen must not.
    const node = createDht({ host: '127.0.0.1', port: 0, bootstrap: ['127.0.0.1:9'], queryTimeoutMs: 300 })
    await node.listen()
    const bound = node.address()
    expect(bound?.port).toBeGreaterThan(0)
    await node.listen()
    await node.start()
    expect(node.address()).toEqual(bound)
    await node.close()
    const taken = createDht({ host: '127.0.0.1', port: bound!.port })
    const holder = createDht({ host: '127.0.0.1', port: bound!.port })
    await holder.listen()
    await expect(taken.listen()).rejects.toMatchObject({ name: 'DhtBindError' })
    await Promise.all([holder.close(), taken.close()])
  })

  it('runs on a socket it is given (a shared port): binds nothing, and close only detaches it', async () => {
    // The owner keeps the datagrams a DHT does not want (here: those not starting with 'd', as uTP's).
    const udp = createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(0, '127.0.60.1', resolve))
    const others: Buffer[] = []
    const view = new EventEmitter()
    let detached = false
    udp.on('message', (datagram: Buffer, remote: RemoteInfo) => {
      if (datagram[0] === 0x64 && !detached) view.emit('message', datagram, remote)
      else others.push(datagram)
    })
    const socket: DhtSocket = Object.assign(view, {
      send: (datagram: Uint8Array, port: number, address: string, callback?: (error: Error | null) => void) =>
        udp.send(datagram, port, address, callback),
      address: () => udp.address(),
      close: (callback?: () => void) => {
        detached = true
        callback?.()
      },
    })
    const shared = createDht({ socket, port: 1 })
    const other = createDht({ host: '127.0.60.2', port: 0 })
    await Promise.all([shared.listen(), other.listen()])
    expect(shared.address()).toEqual({ host: '127.0.60.1', port: udp.address().port })
    expect(await other.ping(shared.address()!)).toEqual(shared.nodeId)
    expect(await shared.ping(other.address()!)).toEqual(other.nodeId)
    await shared.close()
    expect(detached).toBe(true)
    // The owner's socket is still open, and what arrives now is the owner's alone.
    const arrived = new Promise<void>((resolve) => udp.once('message', () => setImmediate(resolve)))
    udp.send(Buffer.from('d1:y1:qe'), udp.address().port, '127.0.60.1')
    await arrived
    expect(others.map(String)).toContain('d1:y1:qe')
    await other.close()
    await new Promise<void>((resolve) => udp.close(() => resolve()))
  })
})
