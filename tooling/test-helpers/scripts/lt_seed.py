#!/usr/bin/python3
"""A libtorrent 2.0 seeder (or torrent maker) on a loopback address for interop tests.

Seed:  lt_seed.py seed --torrent T --save-path DIR [--host IP] [--port N] [--settings JSON]
       Prints one JSON line {"event": "ready", "host": …, "port": …, "infoHash": …, "peerIdPrefix": …}
       once the torrent is seeding and listening, then runs until SIGTERM/SIGINT. Port 0 lets libtorrent
       choose; the host (default 127.0.0.1) may be any of 127.0.0.0/8, so each peer of a test has its own.
Make:  lt_seed.py make --content PATH --torrent OUT [--piece-length N] [--tracker URL]...
       Writes a .torrent for PATH (a file or a directory) and prints {"event": "made", "infoHash": …}.
Leech: lt_seed.py leech --torrent T --save-path DIR [--host IP] [--peer HOST:PORT]... [--settings JSON]
       Downloads T into DIR (from the torrent's trackers and the given peers), prints
       {"event": "done", "seconds": …} once every piece is verified, and exits.
Failures print {"event": "error", "message": …} and exit 1.
"""
import argparse
import json
import os
import signal
import sys
import time

import libtorrent as lt


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(message):
    emit(event="error", message=message)
    sys.exit(1)


def make(args):
    storage = lt.file_storage()
    lt.add_files(storage, args.content)
    if storage.num_files() == 0:
        fail("no files under %s" % args.content)
    torrent = lt.create_torrent(storage, args.piece_length)
    for tier, url in enumerate(args.tracker):
        torrent.add_tracker(url, tier)
    torrent.set_creator("bt test-helpers lt_seed.py")
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(args.content)))
    with open(args.torrent, "wb") as out:
        out.write(lt.bencode(torrent.generate()))
    info = lt.torrent_info(args.torrent)
    emit(event="made", infoHash=str(info.info_hashes().v1))


def loopback_settings(args, base):
    settings = base
    settings.update(
        {
            "listen_interfaces": "%s:%d" % (args.host, args.port),
            # Peers are dialled from the listen address too, so the peer has one address whichever way
            # a connection goes (otherwise outgoing connections leave from 127.0.0.1).
            "outgoing_interfaces": args.host,
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_incoming_utp": False,
            "enable_outgoing_utp": False,
            "allow_multiple_connections_per_ip": True,
            "announce_to_all_tiers": True,
            "announce_to_all_trackers": True,
            "aio_threads": 1,
            "alert_mask": lt.alert_category.error | lt.alert_category.status,
        }
    )
    if args.settings:
        settings.update(json.loads(args.settings))
    return settings


def seed(args):
    settings = loopback_settings(args, lt.high_performance_seed())
    session = lt.session(settings)

    try:
        info = lt.torrent_info(args.torrent)
    except RuntimeError as error:
        fail("cannot load %s: %s" % (args.torrent, error))
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.save_path
    handle = session.add_torrent(params)

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    deadline = time.time() + args.timeout
    while not stopping:
        status = handle.status()
        if status.errc.value() != 0:
            fail("torrent error: %s" % status.errc.message())
        if status.state == lt.torrent_status.seeding and session.is_listening():
            break
        checking = status.state in (
            lt.torrent_status.checking_files,
            lt.torrent_status.checking_resume_data,
        )
        if not checking and status.state != lt.torrent_status.seeding and status.progress < 1:
            fail("content under %s is incomplete (%.1f%% verified)" % (args.save_path, status.progress * 100))
        if time.time() > deadline:
            fail("not seeding after %ds (state %s)" % (args.timeout, status.state))
        time.sleep(0.05)

    fingerprint = settings.get("peer_fingerprint") or session.get_settings().get("peer_fingerprint", "")
    emit(
        event="ready",
        host=args.host,
        port=session.listen_port(),
        infoHash=str(info.info_hashes().v1),
        peerIdPrefix=fingerprint,
    )
    while not stopping:
        time.sleep(0.2)
        for alert in session.pop_alerts():
            if args.verbose:
                sys.stderr.write("%s\n" % alert.message())


def leech(args):
    session = lt.session(loopback_settings(args, lt.default_settings()))
    try:
        info = lt.torrent_info(args.torrent)
    except RuntimeError as error:
        fail("cannot load %s: %s" % (args.torrent, error))
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = args.save_path
    started = time.time()
    handle = session.add_torrent(params)
    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host, int(port)))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    deadline = started + args.timeout
    while not stopping:
        status = handle.status()
        if status.errc.value() != 0:
            fail("torrent error: %s" % status.errc.message())
        if status.state == lt.torrent_status.seeding or status.is_finished:
            emit(event="done", seconds=time.time() - started)
            return
        if time.time() > deadline:
            fail("not finished after %ds (%.1f%%)" % (args.timeout, status.progress * 100))
        session.pop_alerts()
        time.sleep(0.02)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--torrent", required=True)
    seed_parser.add_argument("--save-path", required=True)
    seed_parser.add_argument("--host", default="127.0.0.1")
    seed_parser.add_argument("--port", type=int, default=0)
    seed_parser.add_argument("--settings", help="JSON object of libtorrent settings to override")
    seed_parser.add_argument("--timeout", type=int, default=60)
    seed_parser.add_argument("--verbose", action="store_true")
    make_parser = sub.add_parser("make")
    make_parser.add_argument("--content", required=True)
    make_parser.add_argument("--torrent", required=True)
    make_parser.add_argument("--piece-length", type=int, default=16384)
    make_parser.add_argument("--tracker", action="append", default=[])
    leech_parser = sub.add_parser("leech")
    leech_parser.add_argument("--torrent", required=True)
    leech_parser.add_argument("--save-path", required=True)
    leech_parser.add_argument("--host", default="127.0.0.1")
    leech_parser.add_argument("--port", type=int, default=0)
    leech_parser.add_argument("--peer", action="append", default=[])
    leech_parser.add_argument("--settings", help="JSON object of libtorrent settings to override")
    leech_parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args()
    {"make": make, "seed": seed, "leech": leech}[args.command](args)


if __name__ == "__main__":
    main()
