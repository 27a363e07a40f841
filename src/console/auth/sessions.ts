// Signed-in sessions, in memory (a restart signs everyone out): a random id in an HttpOnly cookie, a
// CSRF token per session for every POST, an absolute expiry.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleRole } from './users.ts';

export type Session = {
  readonly id: string;
  readonly user: string;
  readonly role: ConsoleRole;
  readonly csrf: string;
  readonly expiresAtMs: number;
};

export type Sessions = {
  create(user: string, role: ConsoleRole): Session;
  get(id: string | undefined): Session | undefined;
  destroy(id: string | undefined): void;
};

const MAX_SESSIONS = 10_000;

export const createSessions = (options: {
  readonly ttlMs: number;
  readonly now?: () => number;
}): Sessions => {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Session>();
  const sweep = (): void => {
    const at = now();
    for (const [id, session] of sessions) if (session.expiresAtMs <= at) sessions.delete(id);
    // Bounded: the oldest go first (Map keeps insertion order).
    while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
  };
  return {
    create: (user, role) => {
      sweep();
      const session: Session = {
        id: randomBytes(24).toString('base64url'),
        user,
        role,
        csrf: randomBytes(24).toString('base64url'),
        expiresAtMs: now() + options.ttlMs,
      };
      sessions.set(session.id, session);
      return session;
    },
    get: (id) => {
      if (id === undefined) return undefined;
      const session = sessions.get(id);
      if (!session) return undefined;
      if (session.expiresAtMs <= now()) {
        sessions.delete(id);
        return undefined;
      }
      return session;
    },
    destroy: (id) => {
      if (id !== undefined) sessions.delete(id);
    },
  };
};

export const sameSecret = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
