import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** A signed-in user, as the token says. */
export interface Session {
  readonly userId: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

const TOKEN_TTL_S = 12 * 3600;

/** Hashes a password with scrypt and a random salt: `scrypt$<salt>$<hash>`. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16).toString('base64url');
  return `scrypt$${salt}$${scryptSync(password, salt, 32).toString('base64url')}`;
}

/** Whether `password` matches a {@link hashPassword} hash, in constant time. */
export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = scryptSync(password, salt, expected.length);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A bearer token: `<payload>.<HMAC-SHA256 of payload>`, both base64url; the payload is the session as JSON. */
export function signToken(secret: string, userId: string, nowS = Math.floor(Date.now() / 1000)): string {
  const payload = Buffer.from(JSON.stringify({ userId, exp: nowS + TOKEN_TTL_S })).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

/** The session of a valid, unexpired token, or `undefined`. */
export function verifyToken(
  secret: string,
  token: string,
  nowS = Math.floor(Date.now() / 1000),
): Session | undefined {
  const [payload, signature] = token.split('.');
  if (payload === undefined || signature === undefined) return undefined;
  const expected = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Session>;
    if (typeof session.userId !== 'string' || typeof session.exp !== 'number' || session.exp <= nowS)
      return undefined;
    return { userId: session.userId, exp: session.exp };
  } catch {
    return undefined;
  }
}
