#!/usr/bin/python3
"""A private DHT of libtorrent 2.0 nodes on loopback, all in this one process, for interop tests.

lt_dht.py --hosts 127.0.9.2,127.0.9.3,... [--warm-up-nodes 8] [--timeout 60]
    Starts one lt.session per host (UDP port chosen by libtorrent), joins every node to the first with
    add_dht_node (a router would never enter a routing table), and warms the tables up with one
    random-target get_peers per node and second (well under libtorrent's 5 packets/s per-IP block).
    Prints {"event": "ready", "nodes": [{"host", "port", "id"}...]} once every node has
    --warm-up-nodes entries in its table, then reads commands, one JSON object a line, from stdin:
      {"id": N, "cmd": "announce", "node": i, "infoHash": HEX}       -> {"id": N, "port": P}
          adds a torrent known only by its info hash (no trackers), so libtorrent announces node i's
          listen port P to the DHT, as a magnet download does (the Python binding of 2.0.8 cannot build
          the flags argument of session.dht_announce)
      {"id": N, "cmd": "get_peers", "node": i, "infoHash": HEX, "timeout": S}
          -> {"id": N, "peers": ["ip:port", ...], "seconds": T} with the peers of the first reply that
             brought any, T seconds after the lookup started (or none and S after S seconds)
      {"id": N, "cmd": "table", "node": i}    -> {"id": N, "nodes": ["ip:port", ...]} (its routing table)
      {"id": N, "cmd": "add_node", "node": i, "host": H, "port": P}              -> {"id": N, "ok": true}
    Runs until stdin closes or SIGTERM. Failures print {"event": "error", "message": ...} and exit 1.
"""
import argparse
import json
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time

import libtorrent as lt


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(message):
    emit(event="error", message=message)
    sys.exit(1)


def node_settings(host):
    return {
        "listen_interfaces": "%s:0" % host,
        "outgoing_interfaces": host,
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "alert_mask": lt.alert_category.dht_operation | lt.alert_category.error,
    }


def table_of(session):
    nodes = []
    for entry in session.dht_state().get(b"nodes", []):
        if len(entry) == 6:
            ip = socket.inet_ntoa(entry[:4])
            nodes.append("%s:%d" % (ip, struct.unpack(">H", entry[4:])[0]))
    return nodes


def node_id(session):
    ids = session.dht_state().get(b"node-id", [])
    return ids[0][:20].hex() if ids else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", required=True)
    parser.add_argument("--warm-up-nodes", type=int, default=8)
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args()
    hosts = args.hosts.split(",")

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    sessions = [lt.session(node_settings(host)) for host in hosts]
    deadline = time.time() + args.timeout
    while not all(session.is_listening() and session.is_dht_running() for session in sessions):
        if time.time() > deadline:
            fail("DHT nodes not listening after %ds" % args.timeout)
        time.sleep(0.05)
    ports = [session.listen_port() for session in sessions]
    for session in sessions[1:]:
        session.add_dht_node((hosts[0], ports[0]))
    sessions[0].add_dht_node((hosts[1], ports[1]))

    wanted = min(args.warm_up_nodes, len(sessions) - 1)
    while min(len(table_of(session)) for session in sessions) < wanted:
        if stopping:
            return
        if time.time() > deadline:
            sizes = [len(table_of(session)) for session in sessions]
            fail("tables not warm after %ds: %s" % (args.timeout, sizes))
        for session in sessions:
            session.dht_get_peers(lt.sha1_hash(os.urandom(20)))
            session.pop_alerts()
        time.sleep(1)

    emit(
        event="ready",
        nodes=[
            {"host": host, "port": port, "id": node_id(session)}
            for host, port, session in zip(hosts, ports, sessions)
        ],
    )

    save_path = tempfile.mkdtemp(prefix="lt_dht_")
    try:
        serve(sessions, save_path, stopping)
    finally:
        shutil.rmtree(save_path, ignore_errors=True)


def serve(sessions, save_path, stopping):
    # Outstanding get_peers commands: [command id, node index, info hash, deadline, peers found, start].
    waiting = []
    pending = b""
    while not stopping:
        # Raw reads: a buffered readline would hide the lines after the first from select().
        readable, _, _ = select.select([sys.stdin], [], [], 0.005)
        if readable:
            chunk = os.read(sys.stdin.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            command = json.loads(line)
            reply_id = command.get("id")
            session = sessions[command.get("node", 0)]
            name = command["cmd"]
            if name == "announce":
                params = lt.add_torrent_params()
                params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(command["infoHash"])))
                params.save_path = save_path
                session.add_torrent(params)
                emit(id=reply_id, port=session.listen_port())
            elif name == "get_peers":
                ih = bytes.fromhex(command["infoHash"])
                session.dht_get_peers(lt.sha1_hash(ih))
                timeout = float(command.get("timeout", 10))
                started = time.time()
                waiting.append((reply_id, command.get("node", 0), ih, started + timeout, set(), started))
            elif name == "progress":
                # How far node's own download of an announced torrent got (it fetches from peers it finds).
                handle = session.find_torrent(lt.sha1_hash(bytes.fromhex(command["infoHash"])))
                if not handle.is_valid():
                    emit(id=reply_id, error="no torrent %s on node" % command["infoHash"])
                else:
                    status = handle.status()
                    emit(id=reply_id, progress=status.progress, state=str(status.state), done=status.total_done)
            elif name == "table":
                emit(id=reply_id, nodes=table_of(session), nodeId=node_id(session))
            elif name == "add_node":
                session.add_dht_node((command["host"], int(command["port"])))
                emit(id=reply_id, ok=True)
            else:
                emit(id=reply_id, error="unknown command %s" % name)

        for index, session in enumerate(sessions):
            for alert in session.pop_alerts():
                if not isinstance(alert, lt.dht_get_peers_reply_alert):
                    continue
                ih = bytes.fromhex(str(alert.info_hash))
                for entry in waiting:
                    if entry[1] == index and entry[2] == ih:
                        for ip, port in alert.peers():
                            entry[4].add("%s:%d" % (ip, port))
        now = time.time()
        for entry in list(waiting):
            if entry[4] or now > entry[3]:
                waiting.remove(entry)
                emit(id=entry[0], peers=sorted(entry[4]), seconds=now - entry[5])


if __name__ == "__main__":
    main()
