#!/usr/bin/python3
"""Hostile packets for the dataplane integration test (scapy, run as root in
the client namespace).

  hostile.py attack --iface IF --dst IP --dport N --out FILE.json [--flood N]
      Sends, in order: IPv4 header checksum errors, TCP checksum errors,
      invalid flag combinations (SYN+FIN, no flags, all flags) to the
      listening port and to a closed port, out-of-window RSTs / SYNs / data
      on an established connection (which must survive: a request on it is
      answered afterwards), then a SYN flood.  Writes what it sent and what
      it saw as JSON, exits non-zero when the established connection died.

  hostile.py client --dst IP --dport N --stop FILE --out FILE.json
      The normal client that keeps working during the attack: one persistent
      keep-alive connection (GET /healthz every ~2 ms) plus a fresh connection
      every 100 ms, until FILE exists; writes counts as JSON.
"""

import argparse
import json
import os
import random
import socket
import sys
import time

REQ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


def http_get(sock, buf=b""):
    """One GET /healthz on sock; returns (status, leftover bytes)."""
    sock.sendall(REQ)
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by peer")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
    while len(rest) < clen:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by peer in body")
        rest += chunk
    return status, rest[clen:]


def client(args):
    st = {"persistent_ok": 0, "persistent_fail": 0, "persistent_errors": [],
          "fresh_ok": 0, "fresh_fail": 0, "fresh_errors": [], "reconnects": 0}
    sock = None
    left = b""
    next_fresh = time.monotonic()
    deadline = time.monotonic() + args.max_seconds
    while not os.path.exists(args.stop) and time.monotonic() < deadline:
        try:
            if sock is None:
                sock = socket.create_connection((args.dst, args.dport), timeout=5)
                left = b""
                st["reconnects"] += 1
            code, left = http_get(sock, left)
            if code == 200:
                st["persistent_ok"] += 1
            else:
                st["persistent_fail"] += 1
                st["persistent_errors"].append("status %d" % code)
        except (OSError, ValueError, IndexError) as e:
            st["persistent_fail"] += 1
            st["persistent_errors"].append(repr(e))
            if sock is not None:
                sock.close()
            sock = None
        now = time.monotonic()
        if now >= next_fresh:
            next_fresh = now + 0.1
            try:
                with socket.create_connection((args.dst, args.dport), timeout=3) as f:
                    f.settimeout(3)
                    code, _ = http_get(f)
                    if code == 200:
                        st["fresh_ok"] += 1
                    else:
                        st["fresh_fail"] += 1
                        st["fresh_errors"].append("status %d" % code)
            except (OSError, ValueError, IndexError) as e:
                st["fresh_fail"] += 1
                st["fresh_errors"].append(repr(e))
        time.sleep(0.002)
    if sock is not None:
        sock.close()
    st["persistent_errors"] = st["persistent_errors"][:10]
    st["fresh_errors"] = st["fresh_errors"][:10]
    with open(args.out, "w") as f:
        json.dump(st, f)
    return 0


def attack(args):
    # scapy is imported here so the client mode starts fast
    from scapy.all import (ARP, Ether, IP, TCP, AsyncSniffer, conf, get_if_hwaddr,
                           raw, srp1)
    conf.verb = 0
    iface = args.iface
    smac = get_if_hwaddr(iface)
    src = args.src
    ans = srp1(Ether(dst="ff:ff:ff:ff:ff:ff", src=smac) / ARP(op=1, hwsrc=smac, psrc=src, pdst=args.dst),
               iface=iface, timeout=2, retry=3)
    if ans is None:
        print("no ARP answer from %s" % args.dst, file=sys.stderr)
        return 1
    dmac = ans[ARP].hwsrc
    l2 = conf.L2socket(iface=iface)
    eth = Ether(src=smac, dst=dmac)
    report = {"dst_mac": dmac, "sent": {}}

    def send_all(name, pkts):
        # paced (32 frames, then 2 ms): these kinds are counted one by one, and
        # a burst could overrun the server's receive ring while its core is
        # busy elsewhere on this shared 2-core machine (the flood is the burst test)
        for k, p in enumerate(pkts):
            l2.send(p)
            if k % 32 == 31:
                time.sleep(0.002)
        report["sent"][name] = report["sent"].get(name, 0) + len(pkts)

    def bad_ip_csum(p):
        good = IP(raw(p[IP]))[IP].chksum
        p[IP].chksum = good ^ 0x5a5a
        return p

    def bad_tcp_csum(p):
        good = IP(raw(p[IP]))[TCP].chksum
        p[TCP].chksum = good ^ 0x5a5a
        return p

    # Responses from the server to our crafted packets (not to the kernel's sockets).
    crafted_ports = set()
    captured = []  # AsyncSniffer.results only exists after stop(): collect as we go
    sniff = AsyncSniffer(iface=iface, store=False, prn=captured.append,
                         lfilter=lambda p: IP in p and TCP in p and p[IP].src == args.dst)
    sniff.start()
    time.sleep(0.3)

    n = args.count
    # 1. IPv4 header checksum errors (a SYN to the listener inside)
    pk = []
    for _ in range(n):
        sp = random.randint(20000, 60000)
        crafted_ports.add(sp)
        pk.append(bad_ip_csum(eth / IP(src=src, dst=args.dst) / TCP(sport=sp, dport=args.dport, flags="S", seq=random.getrandbits(32))))
    send_all("bad_ip_checksum", pk)
    # 2. TCP checksum errors: SYNs and data-less ACKs
    pk = []
    for i in range(n):
        sp = random.randint(20000, 60000)
        crafted_ports.add(sp)
        pk.append(bad_tcp_csum(eth / IP(src=src, dst=args.dst) /
                               TCP(sport=sp, dport=args.dport, flags="S" if i % 2 else "A",
                                   seq=random.getrandbits(32), ack=random.getrandbits(32))))
    send_all("bad_tcp_checksum", pk)
    # 3. invalid flag combinations, to the listener and to a closed port
    combos = {"syn_fin": "SF", "no_flags": "", "all_flags": "FSRPAUEC", "syn_rst": "SR", "fin_only": "F"}
    for name, fl in combos.items():
        pk = []
        for i in range(n):
            sp = random.randint(20000, 60000)
            crafted_ports.add(sp)
            dport = args.dport if i % 2 == 0 else args.closed_port
            pk.append(eth / IP(src=src, dst=args.dst) /
                      TCP(sport=sp, dport=dport, flags=fl, seq=random.getrandbits(32), ack=random.getrandbits(32)))
        send_all(name, pk)
    time.sleep(0.5)

    # 4. an established connection (kernel socket) attacked out of window
    s = socket.create_connection((args.dst, args.dport), timeout=5)
    lport = s.getsockname()[1]
    status, left = http_get(s)
    if status != 200:
        print("established: first GET got %d" % status, file=sys.stderr)
        return 1
    time.sleep(0.2)
    seen = [p for p in list(captured) if p[TCP].dport == lport]
    if not seen:
        print("did not see the server's segments of port %d" % lport, file=sys.stderr)
        return 1
    last = seen[-1][TCP]
    srv_ack = last.ack                    # the server's rcv_nxt
    srv_seq = last.seq + len(last.payload)  # the server's snd_nxt
    report["established"] = {"lport": lport, "srv_rcv_nxt": srv_ack, "srv_snd_nxt": srv_seq, "window_seen": last.window}
    base = eth / IP(src=src, dst=args.dst)
    pk = []
    for i in range(n):
        far = (srv_ack + (1 << 31) + i) & 0xffffffff
        behind = (srv_ack - 200000 - i) & 0xffffffff
        beyond = (srv_ack + (3 << 29) + i) & 0xffffffff  # past any window (max 2^30)
        for seq in (far, behind, beyond):
            pk.append(base / TCP(sport=lport, dport=args.dport, flags="R", seq=seq))
            pk.append(base / TCP(sport=lport, dport=args.dport, flags="RA", seq=seq, ack=srv_seq))
    send_all("rst_out_of_window", pk)
    # RFC 5961: an in-window RST that is not exactly rcv_nxt, and a SYN on the
    # established connection, each get a challenge ACK and do not reset it.
    pk = [base / TCP(sport=lport, dport=args.dport, flags="R", seq=(srv_ack + 1 + i) & 0xffffffff) for i in range(10)]
    send_all("rst_in_window_not_exact", pk)
    pk = [base / TCP(sport=lport, dport=args.dport, flags="S", seq=random.getrandbits(32)) for _ in range(10)]
    send_all("syn_on_established", pk)
    # data far outside the receive window must not be delivered
    pk = [base / TCP(sport=lport, dport=args.dport, flags="PA", seq=(srv_ack + (1 << 30)) & 0xffffffff, ack=srv_seq) /
          b"GET /junk HTTP/1.1\r\n\r\n" for _ in range(10)]
    send_all("data_out_of_window", pk)
    time.sleep(0.3)
    try:
        s.settimeout(5)
        status, left = http_get(s, left)
        status2, left = http_get(s, left)
        report["established"]["after"] = [status, status2]
        ok = status == 200 and status2 == 200
    except (OSError, ValueError) as e:
        report["established"]["after"] = repr(e)
        ok = False
    s.close()

    # 5. SYN flood: half from spoofed on-link addresses nobody answers ARP for,
    # half from our own address (our kernel answers the SYN-ACKs with RST).
    t0 = time.monotonic()
    flood = []
    tmpl_spoof = [eth / IP(src="198.18.0.%d" % h, dst=args.dst) for h in range(100, 250)]
    tmpl_own = eth / IP(src=src, dst=args.dst)
    for i in range(args.flood):
        t = tmpl_spoof[i % len(tmpl_spoof)] if i % 2 == 0 else tmpl_own
        flood.append(raw(t / TCP(sport=1024 + (i * 7919) % 60000, dport=args.dport, flags="S",
                                 seq=random.getrandbits(32), window=65535)))
    # paced over --flood-seconds so the normal client's fresh connections
    # overlap it (bursts of 500: the receive ring also sees back-to-back frames)
    t1 = time.monotonic()
    step = args.flood_seconds / max(1, len(flood) // 500)
    for k in range(0, len(flood), 500):
        for b in flood[k:k + 500]:
            l2.send(b)
        pause = t1 + (k // 500 + 1) * step - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    t2 = time.monotonic()
    report["sent"]["syn_flood"] = len(flood)
    report["syn_flood_build_s"] = round(t1 - t0, 2)
    report["syn_flood_send_s"] = round(t2 - t1, 2)
    report["syn_flood_pps"] = int(len(flood) / max(t2 - t1, 1e-6))
    time.sleep(1.0)
    sniff.stop()

    # What the server answered to the crafted segments (informational).
    resp = {}
    for p in captured:
        if p[TCP].dport in crafted_ports:
            key = str(p[TCP].flags)
            resp[key] = resp.get(key, 0) + 1
    report["responses_to_crafted_by_flags"] = resp
    report["established_survived"] = ok
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    return 0 if ok else 3


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("attack")
    a.add_argument("--iface", required=True)
    a.add_argument("--src", required=True)
    a.add_argument("--dst", required=True)
    a.add_argument("--dport", type=int, default=80)
    a.add_argument("--closed-port", type=int, default=81)
    a.add_argument("--count", type=int, default=200, help="packets per hostile kind")
    a.add_argument("--flood", type=int, default=20000)
    a.add_argument("--flood-seconds", type=float, default=3.0)
    a.add_argument("--out", required=True)
    c = sub.add_parser("client")
    c.add_argument("--dst", required=True)
    c.add_argument("--dport", type=int, default=80)
    c.add_argument("--stop", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--max-seconds", type=float, default=200)
    args = ap.parse_args()
    return attack(args) if args.mode == "attack" else client(args)


if __name__ == "__main__":
    sys.exit(main())
