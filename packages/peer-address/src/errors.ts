/** A compact peer list whose length is not a multiple of the entry size, or an unparsable address. */
export class PeerAddressError extends Error {
  override readonly name = 'PeerAddressError'
}
