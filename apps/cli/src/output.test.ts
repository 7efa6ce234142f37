import { describe, expect, it } from 'vitest'
import { displayText, toHex, writeJson, writeLines } from './output.js'

describe('displayText', () => {
  it('leaves printable text, including non-ASCII, alone', () => {
    expect(displayText('Sintel – 日本語 (2010).mp4')).toBe('Sintel – 日本語 (2010).mp4')
  })

  it('escapes control characters and Unicode line breaks', () => {
    expect(displayText('a\nb\rc\td\x1b[31m\x00\x7f\u0085\u2028')).toBe(
      'a\\nb\\rc\\td\\x1b[31m\\x00\\x7f\\x85\\u2028',
    )
  })
})

describe('writers', () => {
  it('writes lines in one call, each ending in a newline', () => {
    const calls: string[] = []
    writeLines((text) => calls.push(text), ['a', 'b'])
    writeLines((text) => calls.push(text), [])
    expect(calls).toEqual(['a\nb\n'])
  })

  it('writes JSON on one line', () => {
    const calls: string[] = []
    writeJson((text) => calls.push(text), { a: [1, 'x\ny'], b: null })
    expect(calls).toEqual(['{"a":[1,"x\\ny"],"b":null}\n'])
  })

  it('hex-encodes a view without its neighbours', () => {
    const bytes = new Uint8Array([0x00, 0x0f, 0xa0, 0xff])
    expect(toHex(bytes.subarray(1, 3))).toBe('0fa0')
  })
})
