# The judge's TCP/UDP client for flows that say what their packets' headers or owner hold (TTL or
# hop limit, TOS / traffic class, IP length, the sending user and group), which Node's sockets
# cannot set: run with python3 inside a namespace,
# `python3 flow-client.py tcp|udp HOST PORT SOURCE_PORTS TIMEOUT_MS SOURCE TOGETHER START_AT FACTS`
# with the arguments of flow-client.cjs and FACTS a JSON object {ttl, tos, length, uid, gid}
# (any may be absent). Prints the same JSON as flow-client.cjs: [{port, sentAt, reply | error}].
# The user and group are taken before any socket is made (setgroups, setgid, setuid), as a
# process of that user would send; `length` is the IP length of a UDP datagram (the payload is
# padded to it); a TCP SYN is as long as the kernel makes it.
import errno, json, os, socket, sys, time
# Imported before the user is taken: its modules may live where that user cannot read.
from concurrent.futures import ThreadPoolExecutor
proto, host, port, ports, timeout_ms, source, together, start_at = sys.argv[1:9]
facts = json.loads(sys.argv[9]) if len(sys.argv) > 9 else {}
port, timeout = int(port), int(timeout_ms) / 1000
ports = [int(p) for p in ports.split(',')]
v6 = ':' in host
fam = socket.AF_INET6 if v6 else socket.AF_INET
if 'gid' in facts or 'uid' in facts:
    os.setgroups([])
    os.setgid(facts.get('gid', facts.get('uid', 0)))
    os.setuid(facts.get('uid', 0))

def configure(s):
    if 'ttl' in facts:
        s.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, socket.IPV6_UNICAST_HOPS if v6 else socket.IP_TTL, facts['ttl'])
    if 'tos' in facts:
        s.setsockopt(socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP, socket.IPV6_TCLASS if v6 else socket.IP_TOS, facts['tos'])
    s.bind((source or ('::' if v6 else '0.0.0.0'), sport_of[s]))

ERRORS = {errno.ECONNREFUSED: 'ECONNREFUSED', errno.EPERM: 'EPERM', errno.EHOSTUNREACH: 'EHOSTUNREACH', errno.ENETUNREACH: 'ENETUNREACH', errno.ECONNRESET: 'ECONNRESET'}
sport_of = {}

def once(sport):
    s = socket.socket(fam, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sport_of[s] = sport
    sent = int(time.time() * 1000)
    try:
        configure(s)
        s.settimeout(timeout)
        if proto == 'tcp':
            s.connect((host, port))
            data = b''
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return {'port': sport, 'sentAt': sent, 'reply': data.decode().strip()}
        s.connect((host, port))
        header = (48 if v6 else 28)
        size = max(1, facts.get('length', header + 5) - header)
        s.send(b'probe'.ljust(size, b'.')[:size] if size >= 5 else b'p' * size)
        return {'port': sport, 'sentAt': sent, 'reply': s.recv(4096).decode().strip()}
    except socket.timeout:
        return {'port': sport, 'sentAt': sent, 'error': 'TIMEOUT'}
    except OSError as e:
        return {'port': sport, 'sentAt': sent, 'error': ERRORS.get(e.errno, f'E{e.errno}')}
    finally:
        s.close()

time.sleep(max(0, int(start_at) / 1000 - time.time()))
results = []
rest = ports if together == '1' else ports[1:]
if together != '1':
    results.append(once(ports[0]))
# "Together": all at once, each bounded by the timeout.
if rest:
    with ThreadPoolExecutor(max_workers=len(rest)) as pool:
        results.extend(pool.map(once, rest))
print(json.dumps(results))
