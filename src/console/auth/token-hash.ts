// Console sign-in tokens are kept only as scrypt hashes (node:crypto, which single executables and
// Deno also have): `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16_384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

const b64 = (bytes: Buffer): string => bytes.toString('base64url');

export const hashToken = (token: string, salt: Buffer = randomBytes(16)): string =>
  ['scrypt', N, R, P, b64(salt), b64(scryptSync(token, salt, KEY_BYTES, { N, r: R, p: P }))].join('$');

const HASH = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([\w-]+)\$([\w-]+)$/;

export const isTokenHash = (text: string): boolean => HASH.test(text);

/** Constant-time check of a token against its hash; false for a malformed hash. */
export const verifyToken = (token: string, hash: string): boolean => {
  const match = HASH.exec(hash);
  if (!match) return false;
  const [, n, r, p, salt, expected] = match;
  const want = Buffer.from(expected ?? '', 'base64url');
  if (want.length === 0) return false;
  const got = scryptSync(token, Buffer.from(salt ?? '', 'base64url'), want.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r) + 1_048_576,
  });
  return timingSafeEqual(got, want);
};

/** A fresh random token (URL-safe, 192 bits). */
export const newToken = (): string => b64(randomBytes(24));
