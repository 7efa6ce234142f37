// Debian's nginx-light as a static file server on loopback, for web seed tests (BEP 19): byte ranges,
// 404 for what is not there. Needs `describeWithTools(['nginx'], …)`.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acceptsTcp, freeTcpAndUdpPort } from './ports.js'
import { type StartedProcess, startProcess } from './processes.js'

export interface LoopbackNginx {
  /** `http://127.0.0.1:PORT/`: the root of the served directory. */
  url: string
  port: number
  process: StartedProcess
  stop(): Promise<void>
}

/**
 * Serves `root` read-only on 127.0.0.1 from nginx in a prefix of its own (config, pid file, logs and
 * temp files in a temp dir, removed by `stop`). One process (`master_process off`, `daemon off`), so
 * stopping it by its PID stops all of it. Should a worker ever run as `nobody`, `root` must be
 * world-readable; the prefix is made so here.
 */
export async function startNginx(root: string, options: { timeoutMs?: number } = {}): Promise<LoopbackNginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'bt-nginx-'))
  await chmod(prefix, 0o755)
  await mkdir(join(prefix, 'logs'))
  await mkdir(join(prefix, 'temp'))
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  // A port chosen up front may be taken before nginx binds it: try a few.
  for (let attempt = 0; ; attempt++) {
    const port = await freeTcpAndUdpPort()
    await writeFile(join(prefix, 'nginx.conf'), config(prefix, root, port), { mode: 0o644 })
    const process = startProcess('nginx', [
      '-p',
      `${prefix}/`,
      '-c',
      join(prefix, 'nginx.conf'),
      '-e',
      join(prefix, 'logs', 'error.log'),
    ])
    const stop = async () => {
      await process.stop()
      await rm(prefix, { recursive: true, force: true })
    }
    while (!(await acceptsTcp(port))) {
      if (process.child.exitCode !== null || Date.now() > deadline) {
        const log = await readFile(join(prefix, 'logs', 'error.log'), 'utf8').catch(() => '')
        await process.stop()
        if (attempt < 2 && Date.now() < deadline && log.includes('Address already in use')) break
        await rm(prefix, { recursive: true, force: true })
        throw new Error(`nginx did not start:\n${process.output()}\n${log}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    if (process.child.exitCode === null) return { url: `http://127.0.0.1:${port}/`, port, process, stop }
  }
}

function config(prefix: string, root: string, port: number): string {
  const temp = join(prefix, 'temp')
  return `daemon off;
master_process off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp};
  proxy_temp_path ${temp};
  fastcgi_temp_path ${temp};
  default_type application/octet-stream;
  types {}
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root ${root};
    autoindex off;
  }
}
`
}
