# The judge's SCTP client (sctp-probe.ts; judge-node.ts sendFlow), run with python3 inside a
# namespace: `python3 sctp-client.py HOST PORT SOURCE_PORTS TIMEOUT_MS SOURCE TOGETHER [START_AT]`.
# Sends one SCTP INIT from a raw socket per comma-separated source port (all at once when TOGETHER
# is 1, else the first alone and then the rest; not before START_AT, epoch ms) and prints the same
# JSON as the TCP/UDP client (flow-client.cjs): [{port, sentAt, reply | error}]. How the ICMP
# errors and the raw socket's own INIT are read is explained in sctp-probe.ts.
import errno, json, select, socket, struct, sys, time
host, port, ports, timeout_ms, source, together = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3].split(',')], int(sys.argv[4]), sys.argv[5], sys.argv[6] == '1'
start_at = int(sys.argv[7]) / 1000 if len(sys.argv) > 7 else 0
v6 = ':' in host
fam = socket.AF_INET6 if v6 else socket.AF_INET

def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff

def init(sport):
    # Common header (ports, verification tag 0, checksum), then an INIT chunk: type 1, flags 0,
    # length 20, initiate tag, a_rwnd, 10 outbound / 10 inbound streams, initial TSN.
    chunk = struct.pack('!BBHIIHHI', 1, 0, 20, 0x4b505331 + sport, 65535, 10, 10, sport)
    head = struct.pack('!HHI', sport, port, 0)
    return head + struct.pack('<I', crc32c(head + b'\0\0\0\0' + chunk)) + chunk

icmp = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
out = socket.socket(fam, socket.SOCK_RAW, 132)
if source:
    out.bind((source, 0))
results = {}

def quoted_sport(data):
    # The INIT quoted in an ICMP error: ICMPv4 arrives with its IP header, ICMPv6 without.
    if v6:
        kind, code, inner = data[0], data[1], data[8:]
        proto, off = inner[6], 40
    else:
        outer = (data[0] & 15) * 4
        kind, code, inner = data[outer], data[outer + 1], data[outer + 8:]
        proto, off = inner[9], (inner[0] & 15) * 4
    if proto != 132 or len(inner) < off + 4:
        return None
    return kind, code, struct.unpack('!H', inner[off:off + 2])[0]

def delivered_sport(data):
    # An INIT delivered to this namespace, as the raw SCTP socket gets it (IPv4 with its header).
    off = 0 if v6 else (data[0] & 15) * 4
    if len(data) < off + 13 or data[off + 12] != 1:
        return None
    return struct.unpack('!H', data[off:off + 2])[0]

def wait(expect):
    deadline = time.time() + timeout_ms / 1000
    while any(p not in results for p in expect):
        left = deadline - time.time()
        if left <= 0:
            break
        ready, _, _ = select.select([icmp, out], [], [], left)
        if not ready:
            break
        if out in ready:
            sport = delivered_sport(out.recv(4096))
            if sport in expect and sport not in results:
                results[sport] = {'reply': 'delivered here'}
            continue
        got = quoted_sport(icmp.recv(4096))
        if got is None:
            continue
        kind, code, sport = got
        if sport not in expect or sport in results:
            continue
        if (v6 and kind == 1 and code == 4) or (not v6 and kind == 3 and code == 3):
            results[sport] = {'error': 'ECONNREFUSED'}
        elif (v6 and kind == 4 and code == 1) or (not v6 and kind == 3 and code == 2):
            results[sport] = {'reply': 'protocol unreachable'}
        else:
            results[sport] = {'error': 'ICMP %d/%d' % (kind, code)}
    for p in expect:
        results.setdefault(p, failed_send.get(p, {'error': 'TIMEOUT'}))

failed_send = {}
sent_at = {}

def send(batch):
    for p in batch:
        sent_at[p] = int(time.time() * 1000)
        try:
            out.sendto(init(p), (host, 0))
        except OSError as e:
            # The node's own packet dropped in OUTPUT fails the send with EPERM, as for TCP and UDP;
            # a REJECT there fails it too, but its port unreachable still comes: wait for that.
            failed_send[p] = {'error': errno.errorcode.get(e.errno, str(e))}
    wait(batch)

time.sleep(max(0, start_at - time.time()))
rest = list(ports)
if not together:
    send([rest.pop(0)])
if rest:
    send(rest)
sys.stdout.write(json.dumps([dict(port=p, sentAt=sent_at[p], **results[p]) for p in ports]))
