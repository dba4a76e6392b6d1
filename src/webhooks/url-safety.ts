import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * Callback URL checks. In production a URL must not resolve to loopback, private, link-local or
 * other non-public ranges (SSRF); the webhook sender repeats the check at delivery time against
 * DNS rebinding. The sandbox allows local receivers.
 */
export const CALLBACK_URL_MAX = 2048;

export function isPublicAddress(ip: string): boolean {
  try {
    return ipaddr.process(ip).range() === 'unicast';
  } catch {
    return false;
  }
}

export async function checkCallbackUrl(raw: string, opts: { allowPrivate: boolean; resolve?: (host: string) => Promise<string[]> }): Promise<string | null> {
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
