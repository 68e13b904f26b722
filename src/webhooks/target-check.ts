// Webhook targets must not reach the server's own network: a URL whose host resolves to a loopback,
// private, link-local, shared (CGNAT), multicast or unspecified address (IPv4-mapped IPv6 included)
// is refused when the subscription is made and again before every delivery (DNS can change),
// unless the server runs with SEGMENTS_ALLOW_PRIVATE_WEBHOOKS=1 (tests).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidInput } from '../errors.js';

const LOCAL = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) LOCAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) LOCAL.addSubnet(net, prefix, 'ipv6');

/** True for an address a webhook may not target. */
export function isLocalAddress(address: string): boolean {
  const embedded = embeddedIpv4(address);
  if (embedded !== null) return LOCAL.check(embedded, 'ipv4');
  const family = isIP(address);
  if (family === 4) return LOCAL.check(address, 'ipv4');
  if (family === 6) return LOCAL.check(address, 'ipv6');
  return true;
}

/** The IPv4 address inside an IPv4-mapped (or -compatible) IPv6 one: ::ffff:127.0.0.1, ::ffff:7f00:1. */
function embeddedIpv4(address: string): string | null {
  const dotted = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const hi = parseInt(hex[1], 16), lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The URL, checked: http(s), no credentials, and (unless allowed) no local address behind its host. */
export async function checkWebhookTarget(url: string, options: { allowPrivate: boolean; path?: string }): Promise<URL> {
  const path = options.path ?? 'url';
  const refuse = (message: string) => new InvalidInput('invalid webhook target', [{ path, message }]);
  let parsed: URL;
  try { parsed = new URL(url); } catch { throw refuse('expected an absolute http or https URL'); }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw refuse('expected an http or https URL');
  if (parsed.username || parsed.password) throw refuse('a URL with credentials is not accepted: put a secret in the path or verify the signature');
  if (url.length > 2000) throw refuse('at most 2,000 characters');
  if (options.allowPrivate) return parsed;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try { addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address); } catch { throw refuse(`the host ${JSON.stringify(host)} does not resolve`); }
  }
  const local = addresses.find(isLocalAddress);
  if (local !== undefined) throw refuse(`the host resolves to ${local}, a loopback, private, link-local or unspecified address`);
  return parsed;
}
