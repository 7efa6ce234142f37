export { Bitfield } from './bitfield.js'
export { BitfieldError } from './errors.js'
