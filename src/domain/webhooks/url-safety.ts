import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * Callback URL checks. In production a URL must not resolve to loopback, private, link-local or
 * other non-public ranges (SSRF); the webhook sender repeats the check at delivery time against
 * DNS rebinding. The sandbox allows local receivers.
 */
export const CALLBACK_URL_MAX = 2048;

/**
 * IPv6 global unicast (2000::/3) minus every special-purpose range ipaddr.js knows (6to4
 * 2002::/16, Teredo, NAT64 64:ff9b::/96, documentation, …), plus ranges it files as plain
 * unicast although they wrap or reach other hosts: the deprecated IPv4-compatible ::/96
 * (`[::127.0.0.1]`), the local-use NAT64 prefix 64:ff9b:1::/48. Outside 2000::/3 are also
 * fc00::/7, fe80::/10, ::ffff:0:0/96 (IPv4-mapped: judged as the IPv4 address it wraps).
 */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const IPV6_EXTRA_SPECIAL = ['::/96', '64:ff9b:1::/48'].map((c) => ipaddr.parseCIDR(c));

export function isPublicAddress(ip: string): boolean {
  try {
    const addr = ipaddr.process(ip); // ::ffff:a.b.c.d becomes a.b.c.d
    if (addr.range() !== 'unicast') return false;
    if (addr.kind() === 'ipv6') {
      if (!addr.match(IPV6_GLOBAL_UNICAST)) return false;
      if (IPV6_EXTRA_SPECIAL.some((range) => addr.match(range))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export async function checkCallbackUrl(
  raw: string,
  opts: { allowPrivate: boolean; resolve?: (host: string) => Promise<string[]> },
): Promise<string | null> {
  if (raw.length > CALLBACK_URL_MAX) return `callbackUrl: longer than ${CALLBACK_URL_MAX} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'callbackUrl: not a valid absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'callbackUrl: must use http or https';
  if (url.username || url.password) return 'callbackUrl: must not contain credentials';
  if (url.hash) return 'callbackUrl: must not contain a fragment';
  if (opts.allowPrivate) return null;
  if (url.protocol !== 'https:') return 'callbackUrl: must use https in production';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const resolve = opts.resolve ?? (async (h: string) => (await lookup(h, { all: true })).map((a) => a.address));
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : await resolve(host);
  } catch {
    return `callbackUrl: host "${host}" does not resolve`;
  }
  const bad = addresses.find((a) => !isPublicAddress(a));
  if (addresses.length === 0 || bad) return `callbackUrl: host "${host}" resolves to a non-public address${bad ? ` (${bad})` : ''}`;
  return null;
}

/** How long a delivery-time DNS answer is reused (the check runs before every attempt). */
export const DELIVERY_DNS_CACHE_TTL_MS = 5_000;
const DELIVERY_DNS_CACHE_ENTRIES_MAX = 10_000;

/**
 * DNS resolution for the delivery-time check, cached briefly so a busy sender does not queue a
 * lookup per attempt on libuv's small thread pool. The residual window (the HTTP client resolves
 * the name again itself) is a few seconds at most.
 */
export function createCachingResolver(
  resolve?: (host: string) => Promise<string[]>,
  ttlMs = DELIVERY_DNS_CACHE_TTL_MS,
): (host: string) => Promise<string[]> {
  const inner = resolve ?? (async (h: string) => (await lookup(h, { all: true })).map((a) => a.address));
  const cache = new Map<string, { expiresMs: number; addresses: Promise<string[]> }>();
  return (host) => {
    const nowMs = performance.now();
    const hit = cache.get(host);
    if (hit && hit.expiresMs > nowMs) return hit.addresses;
    if (cache.size >= DELIVERY_DNS_CACHE_ENTRIES_MAX) cache.clear();
    const addresses = inner(host);
    cache.set(host, { expiresMs: nowMs + ttlMs, addresses });
    addresses.catch(() => cache.delete(host));
    return addresses;
  };
}
