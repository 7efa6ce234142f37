export { PeerAddressError } from './errors.js'
export {
  type AddressFamily,
  decodeCompactPeers,
  encodeCompactPeers,
  formatPeerAddress,
  type PeerAddress,
  parsePeerAddress,
} from './peer-address.js'
