// uTP across a kernel-shaped link: two private network namespaces joined by a veth pair whose egress
// is a bottleneck (htb at 80 Mbit/s with a short tail-drop queue; plus netem loss and delay where the
// kernel has sch_netem). Nothing here touches the shared `lo`: the namespaces hold only the veth.
// Needs root, unshare, ip and tc: in CI their absence fails the test; elsewhere it is skipped, saying why.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const PEER = fileURLToPath(new URL('./shaped-peer.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

function probe(): { ok: boolean; reason: string; netem: boolean } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root (network namespaces)', netem: false }
  const veth = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link add t0 type veth peer name t1 && tc qdisc add dev t0 root handle 1: htb default 10',
    ],
    { encoding: 'utf8' },
  )
  if (veth.status !== 0) {
    return {
      ok: false,
      reason: `unshare/ip/tc unusable: ${(veth.stderr || veth.error?.message || '').trim()}`,
      netem: false,
    }
  }
  const netem = spawnSync('unshare', [
    '-n',
    'sh',
    '-c',
    'ip link set lo up && tc qdisc add dev lo root netem delay 1ms',
  ])
  return { ok: true, reason: '', netem: netem.status === 0 }
}

const capability = probe()
const describeShaped = capability.ok || process.env.CI ? describe : (describe.skip as typeof describe)
if (!capability.ok && !process.env.CI)
  console.warn(`[skipped] uTP over a kernel-shaped link: ${capability.reason}`)

/** The setup script: this namespace gets t0 (10.250.0.1), the receiver's namespace t1 (10.250.0.2). */
function script(bytes: number, netem: boolean): string {
  const node = `${JSON.stringify(process.execPath)} --conditions=@bt/source --import tsx ${JSON.stringify(PEER)}`
  const leaf = netem ? 'netem delay 10ms loss 0.5% limit 2000' : 'pfifo limit 40'
  const shape = (dev: string) =>
    `tc qdisc add dev ${dev} root handle 1: htb default 10 && ` +
    `tc class add dev ${dev} parent 1: classid 1:10 htb rate 80mbit ceil 80mbit && ` +
    `tc qdisc add dev ${dev} parent 1:10 handle 10: ${leaf}`
  return `
set -e
ip link set lo up
unshare -n sh -c '
  set -e
  while ! ip link show t1 >/dev/null 2>&1; do sleep 0.02; done
  ip link set lo up
  ip addr add 10.250.0.2/24 dev t1
  ip link set t1 up
  ${shape('t1')}
  exec ${node.replaceAll("'", "'\\''")} receive 10.250.0.2 6881 ${bytes}
' > "$OUT/receive.json" &
receiver=$!
# The veth's far end must go into the receiver's namespace, so wait until it has one of its own.
while [ "$(readlink /proc/$receiver/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
ip link add t0 type veth peer name t1 netns $receiver
ip addr add 10.250.0.1/24 dev t0
ip link set t0 up
${shape('t0')}
${node} send 10.250.0.2 6881 ${bytes} > "$OUT/send.json"
wait $receiver
echo "send $(cat "$OUT/send.json")"
echo "receive $(cat "$OUT/receive.json")"
`
}

function run(
  bytes: number,
  netem: boolean,
): Promise<{ send: Record<string, number | string>; receive: Record<string, number | string> }> {
  return new Promise((resolve, reject) => {
    const out = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim()
    const child = spawn('unshare', ['-n', 'bash', '-c', script(bytes, netem)], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, OUT: out },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    }, 90_000)
    child.once('close', (code) => {
      clearTimeout(timer)
      spawnSync('rm', ['-rf', out])
      const send = /^send (.*)$/m.exec(output)?.[1]
      const receive = /^receive (.*)$/m.exec(output)?.[1]
      if (code !== 0 || !send || !receive) {
        reject(new Error(`shaped transfer failed (exit ${code}):\n${output}`))
        return
      }
      resolve({ send: JSON.parse(send), receive: JSON.parse(receive) })
    })
  })
}

describeShaped('uTP over a kernel-shaped link (veth between two namespaces)', () => {
  it('has root, unshare, ip and tc (CI must be able to shape)', () => {
    expect(capability.reason).toBe('')
  })

  it(`moves 24 MiB intact through an 80 Mbit/s bottleneck${capability.netem ? ' with netem loss and delay' : ''}`, async () => {
    const bytes = 24 << 20
    const { send, receive } = await run(bytes, capability.netem)
    expect(receive.bytes).toBe(bytes)
    expect(receive.sha1).toBe(send.sha1)
    const mbps = (bytes * 8) / Number(send.seconds) / 1e6
    console.log(
      `shaped link: ${mbps.toFixed(1)} Mbit/s of an 80 Mbit/s bottleneck, ` +
        `rtt ${Number(send.rttMs).toFixed(1)} ms, ${send.retransmits} retransmits`,
    )
    // A tail-drop bottleneck loses packets as the window probes it: the transfer must still use the
    // link well, not collapse into timeouts.
    expect(mbps).toBeGreaterThan(capability.netem ? 5 : 24)
  }, 120_000)
})
