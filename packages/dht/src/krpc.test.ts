import { encode } from '@bt/bencode'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeKrpc,
  decodeNodes,
  encodeError,
  encodeNodes,
  encodeQuery,
  encodeResponse,
  wantField,
} from './krpc.js'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

describe('KRPC codec', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (packet) => {
        expect(() => decodeKrpc(packet)).not.toThrow()
      }),
      { numRuns: 5000 },
    )
  })

  it('never throws on arbitrary bencoded dictionaries of KRPC keys', () => {
    const leaf = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.integer(),
      fc.constantFrom('q', 'r', 'e', 'ping'),
    )
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom('id', 'nodes', 'values', 't', 'y', 'q', 'a', 'r', 'e', 'ip', 'want'),
          tie('v'),
          { maxKeys: 5 },
        ),
      ),
    })).v
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('t', 'y', 'q', 'a', 'r', 'e', 'ip', 'ro', 'v'), value),
        (dict) => {
          const message = decodeKrpc(encode(dict as Parameters<typeof encode>[0]))
          expect(['q', 'r', 'e', 'invalid']).toContain(message.y)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('round-trips queries, responses and errors', () => {
    fc.assert(
      fc.property(
        bytes(2),
        bytes(20),
        fc.constantFrom('ping', 'find_node', 'get_peers'),
        fc.boolean(),
        (t, id, method, ro) => {
          const query = decodeKrpc(encodeQuery(t, method, { id, target: id }, { readOnly: ro }))
          expect(query).toMatchObject({ y: 'q', t, method, readOnly: ro })
          if (query.y === 'q') expect(query.args.get('id')).toEqual(id)
          const response = decodeKrpc(
            encodeResponse(t, { id }, { ip: Uint8Array.of(127, 0, 0, 2, 0x1a, 0xe1) }),
          )
          expect(response).toMatchObject({ y: 'r', t, ip: { host: '127.0.0.2', port: 6881 } })
          expect(decodeKrpc(encodeError(t, 204, 'Method Unknown'))).toEqual({
            y: 'e',
            t,
            code: 204,
            message: 'Method Unknown',
          })
        },
      ),
    )
  })

  it('rejects what is not KRPC, keeping the transaction id when it can', () => {
    expect(decodeKrpc(new TextEncoder().encode('garbage'))).toMatchObject({ y: 'invalid', t: undefined })
    expect(decodeKrpc(encode({ t: 'aa', y: 'q', q: 'ping' }))).toMatchObject({
      y: 'invalid',
      reason: 'missing arguments',
    })
    expect(decodeKrpc(encode({ t: 'x'.repeat(17), y: 'q', q: 'ping', a: {} }))).toMatchObject({
      t: undefined,
    })
    expect(decodeKrpc(new Uint8Array(5000))).toMatchObject({ y: 'invalid' })
    // Nesting beyond what KRPC needs is refused without recursion trouble.
    expect(decodeKrpc(new TextEncoder().encode(`${'l'.repeat(100000)}${'e'.repeat(100000)}`)).y).toBe(
      'invalid',
    )
  })

  it('decodes compact nodes, refusing lengths that are not a multiple of 26/38', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: bytes(20), ipBytes: bytes(4), port: fc.integer({ min: 1, max: 65535 }) }), {
          maxLength: 8,
        }),
        (nodes) => {
          const decoded = decodeNodes(encodeNodes(nodes, 4), 4, 16)!
          expect(decoded.map((n) => [n.id, n.port])).toEqual(nodes.map((n) => [n.id, n.port]))
        },
      ),
    )
    expect(decodeNodes(new Uint8Array(27), 4, 16)).toBeUndefined()
    expect(decodeNodes(new Uint8Array(26 * 1000).fill(1), 4, 16)).toHaveLength(16)
    expect(decodeNodes(new Uint8Array(38 * 2).fill(1), 6, 16)).toHaveLength(2)
    expect(decodeNodes(new Uint8Array(26), 4, 16)).toEqual([]) // port 0
  })

  it('reads want lists', () => {
    const want = (list: unknown) => wantField(new Map([['want', list as never]]))
    expect(want([Uint8Array.of(0x6e, 0x36)])).toEqual({ v4: false, v6: true })
    expect(want('n4')).toBeUndefined()
  })
})
