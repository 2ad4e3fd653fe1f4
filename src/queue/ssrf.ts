import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a callback must not reach unless the operator says so (SSRF): loopback, private
 * (RFC 1918, unique-local), link-local (169.254.x.x: cloud metadata), carrier-grade NAT,
 * unspecified, multicast and reserved ranges, IPv4-mapped IPv6 included.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

/** dns.lookup with `all: true` (the system resolver); replaceable where DNS cannot be had (tests). */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true; // not an address: refuse
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

/** A host written in the allow-list as an address (or "localhost") is allowed as written. */
export function isLiteralHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return isIP(h) !== 0 || h === 'localhost';
}

export class PrivateAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host} resolves to ${address}, a loopback, private or link-local address; ` +
        'set SUTAZAI_CALLBACK_ALLOW_PRIVATE=true to allow callbacks there',
    );
    this.name = 'PrivateAddressError';
  }
}

/**
 * A `lookup` for net.connect that refuses host names resolving to private addresses, so the
 * address checked is the address connected to (a name cannot resolve to a public address for the
 * check and to 169.254.169.254 for the connection).
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad =
        allowPrivate || isLiteralHost(hostname)
          ? undefined
          : addresses.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(new PrivateAddressError(hostname, bad.address), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Resolve `hostname` as a callback would; rejects with PrivateAddressError when it is refused. */
export function checkResolvedHost(
  hostname: string,
  allowPrivate: boolean,
  resolve: Resolver = dnsLookup,
): Promise<void> {
  const lookup = guardedLookup(allowPrivate, resolve);
  return new Promise((resolve, reject) => {
    lookup(hostname, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}
