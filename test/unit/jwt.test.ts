import { describe, expect, test } from 'bun:test';
import { sign as honoSign, verify as honoVerify } from 'hono/jwt';
import { Hs256 } from '../../src/gateway/jwt.ts';

// hono/jwt is the reference: bunshop's own HS256 must agree with it on every token below.
const secret = 'a-secret-that-is-long-enough-for-hs256-0123456789';
const key = new Hs256(secret);
const now = 1_800_000_000;
const expected = { iss: 'bunshop', aud: 'bunshop-api', now };
const claims = (patch: Record<string, unknown> = {}) => ({
  sub: '00000000-0000-4000-8000-000000000001',
  iss: 'bunshop',
  aud: 'bunshop-api',
  iat: now - 10,
  nbf: now - 10,
  exp: now + 600,
  ...patch,
});
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const resign = (head: unknown, body: unknown) => {
  const signed = `${b64(head)}.${b64(body)}`;
  const mac = new Bun.CryptoHasher('sha256', secret).update(signed).digest('base64url');
  return `${signed}.${mac}`;
};

describe('HS256 tokens', () => {
  test('a token hono signs verifies here, and one signed here verifies in hono', async () => {
    expect(key.verify(await honoSign(claims(), secret, 'HS256'), expected)).toEqual(claims());
    const ours = key.sign(claims({ exp: Math.floor(Date.now() / 1000) + 60, iat: 1, nbf: 1 }));
    const theirs = await honoVerify(ours, secret, {
      alg: 'HS256',
      iss: 'bunshop',
      aud: 'bunshop-api',
    });
    expect(theirs.sub).toBe(claims().sub);
  });

  const refused: [string, () => Promise<string> | string][] = [
    ['another key', () => honoSign(claims(), `${secret}-other`, 'HS256')],
    ['HS512 with the right key', () => honoSign(claims(), secret, 'HS512')],
    ['alg none', () => `${b64({ alg: 'none' })}.${b64(claims())}.`],
    ['typ other than JWT', () => resign({ alg: 'HS256', typ: 'at+jwt' }, claims())],
    ['a crit header', () => resign({ alg: 'HS256', crit: ['exp'] }, claims())],
    ['a payload that is an array', () => resign({ alg: 'HS256' }, [claims()])],
    ['expired', () => key.sign(claims({ exp: now }))],
    ['no exp', () => key.sign(claims({ exp: undefined }))],
    ['exp as a string', () => key.sign(claims({ exp: String(now + 600) }))],
    ['nbf in the future', () => key.sign(claims({ nbf: now + 1 }))],
    ['iat in the future', () => key.sign(claims({ iat: now + 1 }))],
    ['another issuer', () => key.sign(claims({ iss: 'someone' }))],
    ['another audience', () => key.sign(claims({ aud: ['x', 'y'] }))],
    ['a padded signature', () => `${key.sign(claims())}=`],
    ['a truncated signature', () => key.sign(claims()).slice(0, -2)],
    ['a fourth part', () => `${key.sign(claims())}.x`],
    ['the payload swapped', () => key.sign(claims()).replace(/\.[^.]+\./, `.${b64(claims())}x.`)],
  ];
  for (const [name, make] of refused) {
    test(`refused: ${name}`, async () => {
      const token = await make();
      expect(key.verify(token, expected)).toBeUndefined();
      // hono refuses it too (its clock is the real one, so only where time plays no part).
      if (!/exp|nbf|iat/.test(name)) {
        const verdict = honoVerify(token, secret, {
          alg: 'HS256',
          iss: 'bunshop',
          aud: 'bunshop-api',
        });
        await expect(verdict).rejects.toThrow();
      }
    });
  }

  test('accepted: typ in another case or as a media type, aud as a list that holds ours', () => {
    for (const typ of ['jwt', 'application/JWT']) {
      expect(key.verify(resign({ alg: 'HS256', typ }, claims()), expected)).toBeDefined();
    }
    expect(key.verify(key.sign(claims({ aud: ['x', 'bunshop-api'] })), expected)).toBeDefined();
  });
});
