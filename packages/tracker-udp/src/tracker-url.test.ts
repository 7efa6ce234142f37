import { describe, expect, it } from 'vitest'
import { InvalidTrackerUrlError } from './errors.js'
import { encodeUrlDataOptions, parseUdpTrackerUrl } from './tracker-url.js'

describe('parseUdpTrackerUrl', () => {
  it('splits host, port and the BEP 41 URL data', () => {
    expect(parseUdpTrackerUrl('udp://tracker.example:6969/announce?passkey=a%20b&x=1#frag')).toEqual({
      host: 'tracker.example',
      port: 6969,
      urlData: '/announce?passkey=a%20b&x=1',
    })
    expect(parseUdpTrackerUrl('udp://127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80, urlData: '' })
    expect(parseUdpTrackerUrl('UDP://1.2.3.4:80?x')).toEqual({ host: '1.2.3.4', port: 80, urlData: '?x' })
  })

  it('unbrackets and canonicalises IPv6 hosts', () => {
    expect(parseUdpTrackerUrl('udp://[0:0::1]:6969/announce')).toEqual({
      host: '::1',
      port: 6969,
      urlData: '/announce',
    })
  })

  it.each([
    'http://tracker.example:80/announce',
    'udp://tracker.example/announce',
    'udp://tracker.example:0',
    'udp://tracker.example:70000',
    'udp://:80',
    'not a url',
  ])('rejects %s', (url) => {
    const error = (() => {
      try {
        parseUdpTrackerUrl(url)
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(InvalidTrackerUrlError)
    expect(error).toMatchObject({ name: 'InvalidTrackerUrlError', url })
  })
})

describe('encodeUrlDataOptions', () => {
  it('is empty without URL data', () => {
    expect(encodeUrlDataOptions('')).toEqual(new Uint8Array(0))
  })

  it('writes option type 2 with a length byte', () => {
    expect(Array.from(encodeUrlDataOptions('/a?b'))).toEqual([2, 4, 0x2f, 0x61, 0x3f, 0x62])
  })

  it('splits long URL data into options of at most 255 bytes', () => {
    const urlData = `/announce?passkey=${'k'.repeat(300)}`
    const bytes = encodeUrlDataOptions(urlData)
    expect(bytes.length).toBe(urlData.length + 4)
    expect(bytes[0]).toBe(2)
    expect(bytes[1]).toBe(255)
    expect(bytes[257]).toBe(2)
    expect(bytes[258]).toBe(urlData.length - 255)
    const joined = new Uint8Array([...bytes.subarray(2, 257), ...bytes.subarray(259)])
    expect(new TextDecoder().decode(joined)).toBe(urlData)
  })
})
