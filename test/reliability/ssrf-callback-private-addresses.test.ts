import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCallbackTarget, checkCallbackUrl, createCallbackSender } from '../../src/queue/callbacks.js';
import { isPrivateAddress, type Resolver } from '../../src/queue/ssrf.js';
import { waitFor } from '../helpers/http.js';

/*
 * SSRF (issue 23, security review): a task's callback_url may only name allow-listed hosts, and a
 * host NAME must not lead to loopback, private or link-local addresses (169.254.169.254 is the
 * cloud metadata service) unless SUTAZAI_CALLBACK_ALLOW_PRIVATE says so. The check is on the
 * address the connection uses, so DNS answering differently for the check and the connection
 * changes nothing. DNS is the one fake here (a name's answer cannot be chosen otherwise); the
 * connections and the receiver are real.
 */

const DNS: Record<string, string> = {
  'hooks.public.test': '93.184.216.34',
  'metadata.attacker.test': '169.254.169.254',
  'intranet.attacker.test': '10.1.2.3',
  'loop.attacker.test': '127.0.0.1',
  'mapped.attacker.test': '::ffff:127.0.0.1',
};
const fakeDns: Resolver = (hostname, _options, callback) => {
  const address = DNS[hostname];
  if (!address) return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), []);
  callback(null, [{ address, family: address.includes(':') ? 6 : 4 } satisfies LookupAddress]);
};

describe('SSRF: callback addresses', () => {
  it('classifies loopback, private, link-local, CGNAT, mapped and reserved addresses as private', () => {
    for (const a of [
      '127.0.0.1',
      '127.9.9.9',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '172.32.0.1'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('refuses at submission a listed host name that resolves to a private address (400 naming it)', async () => {
    const allowed = [
      'metadata.attacker.test',
      'intranet.attacker.test',
      'mapped.attacker.test',
      'hooks.public.test',
    ];
    for (const host of ['metadata.attacker.test', 'intranet.attacker.test', 'mapped.attacker.test']) {
      const url = checkCallbackUrl(`http://${host}/x`, allowed);
      await expect(checkCallbackTarget(url, false, fakeDns)).rejects.toMatchObject({
        status: 400,
        param: 'callback_url',
        message: expect.stringMatching(/private or link-local.*SUTAZAI_CALLBACK_ALLOW_PRIVATE/) as unknown,
      });
      await expect(checkCallbackTarget(url, true, fakeDns)).resolves.toBeUndefined();
    }
    await expect(checkCallbackTarget('http://hooks.public.test/x', false, fakeDns)).resolves.toBeUndefined();
    // An address written in the allow-list is the operator's explicit choice.
    await expect(checkCallbackTarget('http://127.0.0.1:9000/x', false, fakeDns)).resolves.toBeUndefined();
    // Not in the list at all: refused before any DNS.
    expect(() => checkCallbackUrl('http://169.254.169.254/latest/meta-data', allowed)).toThrow(/not allowed/);
  });

  describe('delivery connects only where the guard allows', () => {
    let receiver: Server;
    let port: number;
    const hits: string[] = [];
    beforeAll(async () => {
      receiver = createServer((req, res) => {
        hits.push(req.url ?? '');
        res.end('ok');
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      port = (receiver.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise((r) => receiver.close(r));
    });

    it('a name resolving to loopback is not connected to; allowed, it is', async () => {
      const logs: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void logs.push(l) });
      const refused = createCallbackSender({
        allowedHosts: ['loop.attacker.test'],
        logger,
        resolve: fakeDns,
        attempts: 1,
      });
      refused.send(`http://loop.attacker.test:${port}/refused`, { ok: true });
      await waitFor(() => logs.some((l) => l.includes('private address')), 5000, 'refusal logged');
      await refused.close(1000);
      expect(hits).not.toContain('/refused');

      const allowed = createCallbackSender({
        allowedHosts: ['loop.attacker.test'],
        allowPrivate: true,
        logger,
        resolve: fakeDns,
        attempts: 1,
      });
      allowed.send(`http://loop.attacker.test:${port}/allowed`, { ok: true });
      await waitFor(() => hits.includes('/allowed'), 5000, 'callback delivered');
      await allowed.close(1000);
    });
  });
});
