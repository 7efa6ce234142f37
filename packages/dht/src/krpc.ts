// KRPC (BEP 5) messages: bencoded dictionaries with a transaction id `t` and a type `y` — query `q`,
// response `r`, error `e`. Decoding never throws: whatever a datagram holds comes back as a message or
// as `invalid` with a reason, and every field is checked for type and size before anyone reads it.
import { type BencodeDict, type BencodeInput, type BencodeValue, decode, encode } from '@bt/bencode'
import { ipFromBytes } from '@bt/peer-address'

/** Datagrams above this are dropped unread: real KRPC packets stay well under an Ethernet MTU. */
export const MAX_PACKET_BYTES = 4096
const MAX_TRANSACTION_ID_BYTES = 16
const MAX_METHOD_BYTES = 32
const MAX_ERROR_MESSAGE_BYTES = 256
const MAX_NESTING = 4

/** KRPC error codes (BEP 5). */
export const KRPC_ERROR = { generic: 201, server: 202, protocol: 203, methodUnknown: 204 } as const

export interface NodeContact {
  id: Uint8Array
  host: string
  port: number
}

export type KrpcMessage =
  | { y: 'q'; t: Uint8Array; method: string; args: BencodeDict; readOnly: boolean }
  | { y: 'r'; t: Uint8Array; values: BencodeDict; ip: { host: string; port: number } | undefined }
  | { y: 'e'; t: Uint8Array; code: number; message: string }
  /** Not a KRPC message; `t` is set when the transaction id was readable (a query can then get error 203). */
  | { y: 'invalid'; t: Uint8Array | undefined; reason: string }

export function decodeKrpc(packet: Uint8Array): KrpcMessage {
  if (packet.length > MAX_PACKET_BYTES) return invalid(undefined, `packet of ${packet.length} bytes`)
  let value: BencodeValue
  try {
    value = decode(packet, { strict: false, maxDepth: MAX_NESTING })
  } catch {
    return invalid(undefined, 'not bencode')
  }
  if (!(value instanceof Map)) return invalid(undefined, 'not a dictionary')
  const t = value.get('t')
  if (!(t instanceof Uint8Array) || t.length === 0 || t.length > MAX_TRANSACTION_ID_BYTES) {
    return invalid(undefined, 'missing or oversized transaction id')
  }
  const y = value.get('y')
  const kind = y instanceof Uint8Array && y.length === 1 ? String.fromCharCode(y[0]!) : undefined
  if (kind === 'q') {
    const q = value.get('q')
    const a = value.get('a')
    if (!(q instanceof Uint8Array) || q.length === 0 || q.length > MAX_METHOD_BYTES) {
      return invalid(t, 'missing method name')
    }
    if (!(a instanceof Map)) return invalid(t, 'missing arguments')
    return { y: 'q', t, method: ascii(q), args: a, readOnly: value.get('ro') === 1 }
  }
  if (kind === 'r') {
    const r = value.get('r')
    if (!(r instanceof Map)) return invalid(t, 'missing response values')
    const ipBytes = value.get('ip')
    let ip: { host: string; port: number } | undefined
    if (ipBytes instanceof Uint8Array && (ipBytes.length === 6 || ipBytes.length === 18)) {
      const at = ipBytes.length - 2
      ip = { host: ipFromBytes(ipBytes.subarray(0, at)), port: (ipBytes[at]! << 8) | ipBytes[at + 1]! }
    }
    return { y: 'r', t, values: r, ip }
  }
  if (kind === 'e') {
    const e = value.get('e')
    const code = Array.isArray(e) ? e[0] : undefined
    const message = Array.isArray(e) ? e[1] : undefined
    return {
      y: 'e',
      t,
      code: typeof code === 'number' ? code : 0,
      message: message instanceof Uint8Array ? ascii(message.subarray(0, MAX_ERROR_MESSAGE_BYTES)) : '',
    }
  }
  return invalid(t, 'unknown message type')
}

function invalid(t: Uint8Array | undefined, reason: string): KrpcMessage {
  return { y: 'invalid', t, reason }
}

/** Bytes as text with anything outside printable ASCII escaped, for method names and error messages. */
function ascii(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes)
    out +=
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`
  return out
}

export function encodeQuery(
  t: Uint8Array,
  method: string,
  args: Record<string, BencodeInput | undefined>,
  extra: { readOnly?: boolean; version?: Uint8Array } = {},
): Uint8Array {
  return encode({ t, y: 'q', q: method, a: args, ro: extra.readOnly ? 1 : undefined, v: extra.version })
}

export function encodeResponse(
  t: Uint8Array,
  values: Record<string, BencodeInput | undefined>,
  extra: { ip?: Uint8Array; version?: Uint8Array } = {},
): Uint8Array {
  return encode({ t, y: 'r', r: values, ip: extra.ip, v: extra.version })
}

export function encodeError(t: Uint8Array, code: number, message: string): Uint8Array {
  return encode({ t, y: 'e', e: [code, message] })
}

// Field readers: each returns undefined unless the field has exactly the expected type and size.

export function bytesField(
  dict: BencodeDict,
  key: string,
  size: { length?: number; max?: number } = {},
): Uint8Array | undefined {
  const value = dict.get(key)
  if (!(value instanceof Uint8Array)) return undefined
  if (size.length !== undefined && value.length !== size.length) return undefined
  if (size.max !== undefined && value.length > size.max) return undefined
  return value
}

export function intField(dict: BencodeDict, key: string): number | undefined {
  const value = dict.get(key)
  return typeof value === 'number' ? value : undefined
}

/** The families a `want` list asks for (BEP 32); undefined when absent or malformed. */
export function wantField(dict: BencodeDict): { v4: boolean; v6: boolean } | undefined {
  const value = dict.get('want')
  if (!Array.isArray(value)) return undefined
  const want = { v4: false, v6: false }
  for (const item of value.slice(0, 4)) {
    if (!(item instanceof Uint8Array) || item.length !== 2 || item[0] !== 0x6e) continue
    if (item[1] === 0x34) want.v4 = true
    if (item[1] === 0x36) want.v6 = true
  }
  return want
}

const NODE_SIZE = { 4: 26, 6: 38 } as const

/**
 * Compact node infos (`nodes`: 26 bytes each, `nodes6`: 38). A length that is not a multiple of the
 * entry size makes the whole field invalid (undefined); entries with port 0 are skipped and at most
 * `max` are read.
 */
export function decodeNodes(bytes: Uint8Array, family: 4 | 6, max: number): NodeContact[] | undefined {
  const size = NODE_SIZE[family]
  if (bytes.length % size !== 0) return undefined
  const nodes: NodeContact[] = []
  for (let at = 0; at + size <= bytes.length && nodes.length < max; at += size) {
    const port = (bytes[at + size - 2]! << 8) | bytes[at + size - 1]!
    if (port === 0) continue
    nodes.push({ id: bytes.slice(at, at + 20), host: ipFromBytes(bytes, at + 20, family), port })
  }
  return nodes
}

export function encodeNodes(
  nodes: readonly { id: Uint8Array; ipBytes: Uint8Array; port: number }[],
  family: 4 | 6,
): Uint8Array {
  const size = NODE_SIZE[family]
  const matching = nodes.filter((node) => node.ipBytes.length === (family === 4 ? 4 : 16))
  const out = new Uint8Array(matching.length * size)
  matching.forEach((node, index) => {
    const at = index * size
    out.set(node.id, at)
    out.set(node.ipBytes, at + 20)
    out[at + size - 2] = node.port >> 8
    out[at + size - 1] = node.port & 0xff
  })
  return out
}

/** Compact peer info: the IP bytes then the port, big-endian (BEP 5 `values`, the `ip` key). */
export function compactAddress(ipBytes: Uint8Array, port: number): Uint8Array {
  const out = new Uint8Array(ipBytes.length + 2)
  out.set(ipBytes)
  out[ipBytes.length] = port >> 8
  out[ipBytes.length + 1] = port & 0xff
  return out
}
