export { createHostCheck, type HostCheck, hostName } from './host-check.js'
export { isLoopbackHost } from './loopback.js'
