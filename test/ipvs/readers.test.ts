// The `ipset save` and `ipvsadm-save -n` readers: real dumps read without errors and render back
// byte for byte; bad input is reported with a code and the position of the offending word (tests
// assert on code and position, never on wording).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpsetSave, renderIpsetSave } from '../../src/ipset/index.js';
import { parseIpvsadmSave, renderIpvsadmSave, SERVICE_FLAGS } from '../../src/ipvs/index.js';
import { allStates } from './corpus.js';

const DUMPS = join(import.meta.dirname, '../fixtures/dumps');
const states = allStates();

describe('ipset save reader', () => {
  it.each(['kube-proxy-ipvs-v1.28', 'k3s-v1.29', 'calico-v3.27', 'ufw-fail2ban'])('%s.ipsets reads and renders back byte for byte', (name) => {
    const text = readFileSync(join(DUMPS, `${name}.ipsets`), 'utf8');
    const { dump, diagnostics } = parseIpsetSave(text, { file: name });
    expect(diagnostics).toEqual([]);
    expect(renderIpsetSave(dump)).toBe(text);
  });

  it.each(states.map(({ state }) => [state.id, state] as const))('%s: kpsim ipset.save reads back', (_id, st) => {
    const text = st.artefacts['ipset.save'];
    const { dump, diagnostics } = parseIpsetSave(text, { file: 'ipset.save' });
    expect(diagnostics).toEqual([]);
    expect(renderIpsetSave(dump)).toBe(text);
    expect(dump.sets.map((s) => s.name)).toEqual(st.compiled.ipsets.sets.map((s) => s.name));
  });

  it('parses entry dimensions', () => {
    const text = [
      'create A hash:ip,port family inet hashsize 1024 maxelem 65536',
      'add A 10.20.30.41,udp:53',
      'create B hash:ip,port,net family inet6 hashsize 1024 maxelem 65536',
      'add B 2001:db8::1,tcp:80,2001:db8::/64',
      'create C bitmap:port range 0-65535',
      'add C 30000-30002',
    ].join('\n');
    const { dump, diagnostics } = parseIpsetSave(text, { file: 't' });
    expect(diagnostics).toEqual([]);
    expect(dump.sets.map((s) => [s.family, s.entries[0].parts])).toEqual([
      ['ipv4', [{ dim: 'ip', family: 'ipv4', network: 0x0a141e29, prefix: 32 }, { dim: 'port', protocol: 17, from: 53, to: 53 }]],
      [
        'ipv6',
        [
          { dim: 'ip', family: 'ipv6', network: 0x2001_0db8_0000_0000_0000_0000_0000_0001n, prefix: 128 },
          { dim: 'port', protocol: 6, from: 80, to: 80 },
          { dim: 'net', family: 'ipv6', network: 0x2001_0db8n << 96n, prefix: 64 },
        ],
      ],
      [null, [{ dim: 'port', protocol: null, from: 30000, to: 30002 }]],
    ]);
  });

  const HEAD = 'create S hash:ip,port family inet hashsize 1024 maxelem 65536\n';
  it.each([
    ['unknown command', 'destroy S\n', 'IPSET_UNKNOWN_COMMAND', 1, 1],
    ['no type', 'create S\n', 'IPSET_SYNTAX', 1, 9],
    ['duplicate set', `${HEAD}create S hash:ip\n`, 'IPSET_DUPLICATE_SET', 2, 8],
    ['add to an unknown set', 'add T 10.0.0.1\n', 'IPSET_UNKNOWN_SET', 1, 5],
    ['unknown create option', 'create S hash:ip colour red\n', 'IPSET_UNKNOWN_OPTION', 1, 18],
    ['option without value', 'create S hash:ip hashsize\n', 'IPSET_MISSING_VALUE', 1, 26],
    ['non-numeric hashsize', 'create S hash:ip hashsize big\n', 'IPSET_BAD_VALUE', 1, 27],
    ['bad family', 'create S hash:ip family ipx\n', 'IPSET_BAD_VALUE', 1, 25],
    ['name too long', 'create KUBE-6-LOAD-BALANCER-SOURCE-CIDR hash:ip\n', 'IPSET_NAME_TOO_LONG', 1, 8],
    ['wrong dimensions', `${HEAD}add S 10.0.0.1\n`, 'IPSET_BAD_ENTRY', 2, 7],
    ['bad address', `${HEAD}add S 10.0.0.300,tcp:80\n`, 'IPSET_BAD_ADDRESS', 2, 7],
    ['bad port', `${HEAD}add S 10.0.0.3,tcp:99999\n`, 'IPSET_BAD_PORT', 2, 16],
    ['unknown protocol', `${HEAD}add S 10.0.0.3,gre:1\n`, 'IPSET_BAD_PORT', 2, 16],
    ['IPv6 in an inet set', `${HEAD}add S 2001:db8::1,tcp:80\n`, 'IPSET_WRONG_FAMILY', 2, 7],
    ['duplicate entry', `${HEAD}add S 10.0.0.3,tcp:80\nadd S 10.0.0.3,tcp:80\n`, 'IPSET_DUPLICATE_ENTRY', 3, 7],
    ['unterminated quote', 'create S hash:ip comment\nadd S 10.0.0.1 comment "open\n', 'IPSET_UNTERMINATED_QUOTE', 2, 24],
    ['no entry', `${HEAD}add S\n`, 'IPSET_SYNTAX', 2, 6],
  ] as const)('%s: %s', (_name, text, code, line, col) => {
    const { diagnostics } = parseIpsetSave(text, { file: 't' });
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toContainEqual([code, line, col]);
  });

  it('keeps going after an error and keeps unknown set types as text', () => {
    const { dump, diagnostics } = parseIpsetSave('create X list:set size 8\nadd X A\nadd Y 1\ncreate S hash:ip\nadd S 10.0.0.1\n', { file: 't' });
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([
      ['warning', 'IPSET_UNKNOWN_TYPE'],
      ['error', 'IPSET_UNKNOWN_SET'],
    ]);
    expect(dump.sets.map((s) => [s.name, s.entries.map((e) => e.text)])).toEqual([
      ['X', ['A']],
      ['S', ['10.0.0.1']],
    ]);
  });
});

describe('ipvsadm-save -n reader', () => {
  it.each(states.map(({ state }) => [state.id, state] as const))('%s: kpsim ipvsadm.save reads back to the compiled table', (_id, st) => {
    const text = st.artefacts['ipvsadm.save'];
    const { table, diagnostics } = parseIpvsadmSave(text, { file: 'ipvsadm.save' });
    expect(diagnostics).toEqual([]);
    expect(renderIpvsadmSave(table)).toBe(text);
    const strip = (t: typeof table) => t.services.map((v) => ({ ...v, span: null, realServers: v.realServers.map((r) => ({ ...r, span: null })) }));
    expect(strip(table)).toEqual(strip(st.compiled.ipvs));
  });

  it('reads what ipvsadm-save -n prints on a real node', () => {
    const text = [
      '-A -t 10.96.0.1:443 -s rr',
      '-a -t 10.96.0.1:443 -r 192.168.49.2:6443 -m -w 1',
      '-A -u 10.96.0.10:53 -s rr -p 10800',
      '-a -u 10.96.0.10:53 -r 10.244.0.2:53 -m -w 1',
      '-A --sctp-service [fd00:10:96::a]:53 -s mh -b mh-port',
      '-a --sctp-service [fd00:10:96::a]:53 -r [fd00:10:244::2]:53 -m -w 1 -x 100 -y 10',
      '-A -t 192.0.2.1:80 -s wlc -p 300 -M 255.255.255.0',
      '-a -t 192.0.2.1:80 -r 198.51.100.9:80 -g -w 0',
      '',
    ].join('\n');
    const { table, diagnostics } = parseIpvsadmSave(text, { file: 't' });
    expect(diagnostics).toEqual([]);
    expect(renderIpvsadmSave(table)).toBe(text);
    expect(table.services.map((v) => [v.protocol, v.address, v.port, v.scheduler, v.flags, v.timeout, v.netmaskPrefix, v.realServers.map((r) => `${r.forward}/${r.weight}`)])).toEqual([
      ['TCP', '10.96.0.1', 443, 'rr', 0, 0, 32, ['masq/1']],
      ['UDP', '10.96.0.10', 53, 'rr', SERVICE_FLAGS.persistent, 10800, 32, ['masq/1']],
      ['SCTP', 'fd00:10:96::a', 53, 'mh', SERVICE_FLAGS.sched2, 0, 128, ['masq/1']],
      ['TCP', '192.0.2.1', 80, 'wlc', SERVICE_FLAGS.persistent, 300, 24, ['route/0']],
    ]);
  });

  it('takes long options and -p without a timeout', () => {
    const { table, diagnostics } = parseIpvsadmSave('--add-service --tcp-service 10.0.0.1:80 --scheduler sh --persistent\n--add-server --tcp-service 10.0.0.1:80 --real-server 10.1.0.1:8080 --masquerading --weight 3\n', { file: 't' });
    expect(diagnostics).toEqual([]);
    expect(table.services[0]).toMatchObject({ scheduler: 'sh', flags: SERVICE_FLAGS.persistent, timeout: 300, realServers: [{ address: '10.1.0.1', port: 8080, weight: 3, forward: 'masq' }] });
  });

  const VS = '-A -t 10.0.0.1:80 -s rr\n';
  it.each([
    ['not a save line', 'ipvsadm -L\n', 'IPVS_SYNTAX', 1, 1],
    ['no service switch', '-A 10.0.0.1:80\n', 'IPVS_SYNTAX', 1, 4],
    ['service without address', '-A -t\n', 'IPVS_MISSING_VALUE', 1, 6],
    ['host name (saved without -n)', '-A -t kubernetes:https -s rr\n', 'IPVS_BAD_ADDRESS', 1, 7],
    ['bad port', '-A -t 10.0.0.1:99999 -s rr\n', 'IPVS_BAD_PORT', 1, 16],
    ['IPv6 without brackets', '-A -t fd00::1:80 -s rr\n', 'IPVS_BAD_ADDRESS', 1, 7],
    ['unknown option', '-A -t 10.0.0.1:80 -s rr --fast\n', 'IPVS_UNKNOWN_OPTION', 1, 25],
    ['scheduler without name', '-A -t 10.0.0.1:80 -s\n', 'IPVS_MISSING_VALUE', 1, 21],
    ['duplicate service', `${VS}${VS}`, 'IPVS_DUPLICATE_SERVICE', 2, 7],
    ['server of an unknown service', '-a -t 10.0.0.2:80 -r 10.1.0.1:80 -m -w 1\n', 'IPVS_UNKNOWN_SERVICE', 1, 7],
    ['server without -r', `${VS}-a -t 10.0.0.1:80 -m -w 1\n`, 'IPVS_SYNTAX', 2, 3],
    ['duplicate server', `${VS}-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m\n`, 'IPVS_DUPLICATE_SERVER', 3, 22],
    ['bad weight', `${VS}-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -w heavy\n`, 'IPVS_BAD_NUMBER', 2, 40],
    ['two forwarding methods', `${VS}-a -t 10.0.0.1:80 -r 10.1.0.1:80 -m -g\n`, 'IPVS_DUPLICATE_OPTION', 2, 37],
    ['IPv6 server behind an IPv4 service', `${VS}-a -t 10.0.0.1:80 -r [fd00::1]:80 -m\n`, 'IPVS_WRONG_FAMILY', 2, 22],
    ['firewall-mark service', '-A -f 1 -s rr\n', 'IPVS_UNSUPPORTED', 1, 4],
    ['server option on a service line', '-A -t 10.0.0.1:80 -s rr -w 2\n', 'IPVS_UNKNOWN_OPTION', 1, 25],
  ] as const)('%s: %s', (_name, text, code, line, col) => {
    const { diagnostics } = parseIpvsadmSave(text, { file: 't' });
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toContainEqual([code, line, col]);
  });
});
