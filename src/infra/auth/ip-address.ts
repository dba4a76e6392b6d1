import ipaddr from 'ipaddr.js';

/**
 * IP addresses and ranges of the auth layer: partner IP whitelists and the proxies whose
 * X-Forwarded-For hop is believed.
 */
export function ipAllowed(ip: string, whitelist: string[]): boolean {
  if (whitelist.length === 0) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip);
  } catch {
    return false;
  }
  return whitelist.some((entry) => {
    try {
      if (entry.includes('/')) {
        const [range, bits] = ipaddr.parseCIDR(entry);
        return addr.kind() === range.kind() && addr.match([range, bits] as never);
      }
      const e = ipaddr.process(entry);
      return e.kind() === addr.kind() && e.toNormalizedString() === addr.toNormalizedString();
    } catch {
      return false;
    }
  });
}

export function isValidIpOrCidr(entry: string): boolean {
  if (entry.includes('/')) {
    // ipaddr.js parses the address part of a CIDR leniently (classful/hex IPv4: "192.168/16" is
    // read as 192.0.0.168/16, i.e. 192.0.0.0/16): require a dotted quad, as for a single IP.
    const address = entry.slice(0, entry.indexOf('/'));
    if (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address)) return false;
    try {
      ipaddr.parseCIDR(entry);
      return true;
    } catch {
      return false;
    }
  }
  return ipaddr.isValid(entry) && (ipaddr.IPv4.isValidFourPartDecimal(entry) || ipaddr.IPv6.isValid(entry));
}

/**
 * Which X-Forwarded-For hops to believe. The client address is the right-most untrusted hop of
 * (socket address, X-Forwarded-For from right to left): every proxy appends the address it
 * received the request from, so only the part of the header written by our own proxies is
 * true — anything left of the first address we do not trust was written by the client and may
 * be forged. With no trusted proxies the socket address is the client.
 *
 * Fastify walks the hops (its `trustProxy` option, given the predicate built here), so
 * `req.ip` is that address everywhere: IP whitelist, auth-failure throttling and logs.
 */
export type ProxyTrust = (address: string) => boolean;

/** Splits OPENRAMP_TRUSTED_PROXIES; `invalid` is the first entry that is not an address or CIDR. */
export function parseTrustedProxies(raw: string): { entries: string[]; invalid: string | null } {
  const entries = raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return { entries, invalid: entries.find((e) => !isValidIpOrCidr(e)) ?? null };
}

/** Null when no proxy is trusted (the socket address is the client). */
export function createProxyTrust(entries: string[]): ProxyTrust | null {
  if (entries.length === 0) return null;
  return (address) => {
    // A hop that is not an IP address (a forged "unknown", a host name) is never trusted, so
    // the walk stops there and that text becomes the client address: it matches no whitelist.
    if (!ipaddr.isValid(address)) return false;
    return ipAllowed(address, entries);
  };
}
