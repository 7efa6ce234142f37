import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { parseEncryption } from './encryption-option.js'

describe('parseEncryption', () => {
  it.each(['prefer', 'require', 'allow', 'off'])('%s is a policy', (text) => {
    expect(parseEncryption(text)).toBe(text)
  })

  it.each(['', 'Prefer', 'forced', 'rc4'])('%j is refused', (text) => {
    expect(() => parseEncryption(text)).toThrow(InvalidArgumentError)
  })
})
