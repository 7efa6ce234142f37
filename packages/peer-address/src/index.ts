export { PeerAddressError } from './errors.js'
export { type AddressFamily, canonicalIp, ipFromBytes, ipToBytes } from './ip.js'
export {
  decodeCompactPeers,
  encodeCompactPeers,
  formatPeerAddress,
  type PeerAddress,
  parsePeerAddress,
} from './peer-address.js'
