import { describe, expect, it } from 'vitest'
import { runBt } from './run-bt.js'

describe('bt decode', () => {
  it.each([
    ['5:hello', '"hello"'],
    ['i52e', '52'],
    ['i-52e', '-52'],
    ['l5:helloi52ee', '["hello",52]'],
    ['d3:foo3:bar5:helloi52ee', '{"foo":"bar","hello":52}'],
    [
      'd10:inner_dictd4:key16:value14:key2i42e8:list_keyl5:item15:item2i3eeee',
      '{"inner_dict":{"key1":"value1","key2":42,"list_key":["item1","item2",3]}}',
    ],
    ['0:', '""'],
    ['le', '[]'],
    ['de', '{}'],
    ['i9007199254740993e', '9007199254740993'],
  ])('%s prints %s and a newline', async (input, json) => {
    expect(await runBt(['decode', input])).toEqual({ code: 0, stdout: `${json}\n`, stderr: '' })
  })

  it('counts string lengths in UTF-8 bytes, as bencode does', async () => {
    expect((await runBt(['decode', '6:naïve'])).stdout).toBe('"naïve"\n')
  })

  it('escapes what JSON requires', async () => {
    expect((await runBt(['decode', '5:a"b\\c'])).stdout).toBe('"a\\"b\\\\c"\n')
  })

  it('reads raw bytes from stdin given -', async () => {
    const stdin = new TextEncoder().encode('d4:spaml1:a1:bee')
    expect(await runBt(['decode', '-'], { stdin })).toEqual({
      code: 0,
      stdout: '{"spam":["a","b"]}\n',
      stderr: '',
    })
  })

  it.each([
    ['5:abc', 0],
    ['i52', 3],
    ['x', 0],
    ['l5:hello', 8],
  ])('rejects %s with exit 1 and the offset on stderr', async (input, offset) => {
    const result = await runBt(['decode', input])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(new RegExp(`^bt: bencode: [^\\n]+ at byte ${offset}\\n$`))
  })

  it('is strict by default and accepts non-canonical input with --lenient', async () => {
    const unsorted = 'd1:bi1e1:ai2ee'
    const strict = await runBt(['decode', unsorted])
    expect(strict.code).toBe(1)
    expect(strict.stderr).toMatch(/^bt: bencode: .*at byte \d+\n$/)
    expect(await runBt(['decode', '--lenient', unsorted])).toEqual({
      code: 0,
      stdout: '{"b":1,"a":2}\n',
      stderr: '',
    })
    expect((await runBt(['decode', '--lenient', 'i1ei2e'])).stdout).toBe('1\n')
  })

  it('prints a stack trace only with BT_DEBUG=1', async () => {
    const debug = await runBt(['decode', 'x'], { env: { BT_DEBUG: '1' } })
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(/^bt: bencode: .*\nBencodeDecodeError: .*\n\s+at /)
    expect((await runBt(['decode', 'x'])).stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 2 without its argument', async () => {
    const result = await runBt(['decode'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain("bt: missing required argument 'bencoded'")
  })
})
