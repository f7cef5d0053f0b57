// The mode-neutral proxier settings in iptables words, spelled once per sync: the masquerade mark
// and the local-traffic detector's match arguments (IfLocal / IfNotLocal in
// pkg/proxy/util/localdetector.go). The IPVS mode's iptables rules use the same words.
import type { LocalDetector, ProxierSettings } from '../settings.js';

export interface IptablesWords {
  /** The masquerade mark, `0x4000`. */
  readonly mark: string;
  /** The detector's match for local-pod traffic (`-s 10.0.0.0/8`), or null without a detector. */
  readonly ifLocal: string | null;
  /** Its negation (`! -s 10.0.0.0/8`). */
  readonly ifNotLocal: string | null;
}

/**
 * kube-proxy formats the mark with Go's `%#08x` (`0x00004000`); its unit tests' fake, whose output
 * the conformance corpus pins, uses `0x4000`, and iptables-save prints `0x4000` either way.
 * kpsim prints the short form so its restore output equals the corpus byte for byte.
 */
export function hexMark(mark: number): string {
  return `0x${mark.toString(16)}`;
}

/** The detector's match arguments: `-s CIDR`, `-i NAME`, `-i PREFIX+` (iptables' interface wildcard). */
export function detectorMatch(d: LocalDetector): string {
  switch (d.kind) {
    case 'cidr':
      return `-s ${d.cidr.text}`;
    case 'interface':
      return `-i ${d.name}`;
    case 'interfacePrefix':
      return `-i ${d.prefix}+`;
    default: {
      const never: never = d;
      return never;
    }
  }
}

export function spellSettings(s: ProxierSettings): IptablesWords {
  const ifLocal = s.localDetector ? detectorMatch(s.localDetector) : null;
  return { mark: hexMark(s.masqueradeMark), ifLocal, ifNotLocal: ifLocal === null ? null : `! ${ifLocal}` };
}
