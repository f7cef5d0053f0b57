// Diagnostic codes of the `ipvsadm-save -n` reader. Tests assert on these, never on message wording.

export type IpvsCode =
  | 'IPVS_SYNTAX' // a line that is not `-A ...` or `-a ...`, or lacks its service
  | 'IPVS_UNKNOWN_OPTION'
  | 'IPVS_MISSING_VALUE'
  | 'IPVS_DUPLICATE_OPTION'
  | 'IPVS_BAD_ADDRESS' // not `ip:port` / `[ipv6]:port` (names: save with -n)
  | 'IPVS_BAD_PORT'
  | 'IPVS_BAD_NUMBER' // weight, timeout, thresholds, netmask
  | 'IPVS_UNSUPPORTED' // firewall-mark services, persistence engines: kept out of the table
  | 'IPVS_DUPLICATE_SERVICE'
  | 'IPVS_UNKNOWN_SERVICE' // a real server for a service no `-A` line added
  | 'IPVS_DUPLICATE_SERVER'
  | 'IPVS_WRONG_FAMILY'; // an IPv4 real server behind an IPv6 service (only with tunnelling) or the reverse
