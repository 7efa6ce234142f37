import { encode } from '@bt/bencode'
import { describe, expect, it } from 'vitest'
import { PeerProtocolError } from './errors.js'
import { decodeExtendedHandshake, encodeExtendedHandshake } from './extended-handshake.js'
import { createExtensionRegistry } from './extension-registry.js'

describe('extended handshake', () => {
  it('advertises registered extensions with their local ids and reads them back', () => {
    const registry = createExtensionRegistry([{ name: 'ut_metadata' }, { name: 'ut_pex' }])
    expect(registry.localId('ut_pex')).toBe(2)
    expect(registry.byId(1)?.name).toBe('ut_metadata')
    expect(() => registry.register({ name: 'ut_pex' })).toThrow()
    const payload = encodeExtendedHandshake(
      registry.ids,
      {
        version: 'BT 0.1.0',
        listenPort: 6881,
        requestQueueLength: 250,
        metadataSize: 31_235,
        extra: { upload_only: 1 },
      },
      Uint8Array.of(127, 0, 0, 1),
    )
    expect(Buffer.from(payload).toString('latin1')).toBe(
      'd1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e1:pi6881e4:reqqi250e11:upload_onlyi1e1:v8:BT 0.1.06:yourip4:\x7f\x00\x00\x01e',
    )
    const decoded = decodeExtendedHandshake(payload)
    expect(decoded).toMatchObject({ v: 'BT 0.1.0', p: 6881, reqq: 250, metadataSize: 31_235 })
    expect([...decoded.m]).toEqual([
      ['ut_metadata', 1],
      ['ut_pex', 2],
    ])
    expect([...decoded.yourip!]).toEqual([127, 0, 0, 1])
  })

  it('merges updates (id 0 disables) and ignores fields of the wrong type', () => {
    const first = decodeExtendedHandshake(encode({ m: { ut_metadata: 3, ut_pex: 1 }, v: 'x', p: 'nope' }))
    expect(first.p).toBeUndefined()
    const second = decodeExtendedHandshake(encode({ m: { ut_pex: 0, lt_donthave: 7, bad: -1 } }), first)
    expect([...second.m]).toEqual([
      ['ut_metadata', 3],
      ['lt_donthave', 7],
    ])
    expect(second.v).toBe('x')
  })

  it('accepts unsorted keys but rejects what is not a dictionary', () => {
    const unsorted = new TextEncoder().encode('d1:v1:x1:md11:ut_metadatai2eee')
    expect(decodeExtendedHandshake(unsorted).m.get('ut_metadata')).toBe(2)
    expect(() => decodeExtendedHandshake(new TextEncoder().encode('li1ee'))).toThrow(PeerProtocolError)
    expect(() => decodeExtendedHandshake(new TextEncoder().encode('d1:m'))).toThrow(PeerProtocolError)
  })
})
