/** A bitfield that cannot be valid for the torrent (wrong size, spare bits set). */
export class BitfieldError extends Error {
  override readonly name = 'BitfieldError'

  constructor(message: string) {
    super(`bitfield: ${message}`)
  }
}
