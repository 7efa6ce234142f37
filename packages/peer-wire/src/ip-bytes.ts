// The compact form of an IP address, as BEP 10's `yourip` carries it.
import { isIPv4, isIPv6 } from 'node:net'

/** The compact form of an IP address (`yourip`): 4 bytes for IPv4 (also IPv4-mapped IPv6), 16 for IPv6. */
export function ipBytes(address: string | undefined): Uint8Array | undefined {
  if (address === undefined) return undefined
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address
  if (isIPv4(mapped)) return Uint8Array.from(mapped.split('.').map(Number))
  if (!isIPv6(address)) return undefined
  const [head = '', tail] = address.split('::') as [string, string | undefined]
  const groups = (part: string) => (part === '' ? [] : part.split(':'))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const words = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const bytes = new Uint8Array(16)
  words.forEach((word, i) => {
    const value = Number.parseInt(word, 16)
    bytes[2 * i] = value >>> 8
    bytes[2 * i + 1] = value & 0xff
  })
  return bytes
}
