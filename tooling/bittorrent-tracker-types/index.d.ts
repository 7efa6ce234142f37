// bittorrent-tracker ships no types: the server surface the seeder and the integration tests use.
// A package that has this one as a devDependency reaches it with
// `/// <reference types="@bt/bittorrent-tracker-types" />`.
declare module 'bittorrent-tracker/server' {
  import type { Socket } from 'node:dgram'
  import type { EventEmitter } from 'node:events'
  import type { Server as HttpServer } from 'node:http'

  export interface ServerOptions {
    http?: boolean
    udp?: boolean
    ws?: boolean
    stats?: boolean
    /** Announce interval in milliseconds. */
    interval?: number
    /** Calls back with an error to refuse a torrent; its message becomes the failure reason. */
    filter?: (infoHash: string, params: unknown, callback: (error?: Error | null) => void) => void
  }

  export default class Server extends EventEmitter {
    constructor(options?: ServerOptions)
    readonly http: HttpServer | null
    readonly udp4: Socket | null
    readonly udp6: Socket | null
    listen(
      port: number,
      hostnames: { http?: string; udp?: string; udp6?: string },
      onListening?: () => void,
    ): void
    close(callback?: (error?: Error | null) => void): void
  }
}
