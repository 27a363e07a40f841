// The users API waits for the database at most --request-timeout-ms: a request stuck behind a lock,
// a full pool or an unresponsive server answers 503 by then instead of hanging. A transaction still
// running at the deadline rolls back when it resumes, so the client is never told "failed" about a
// write that then commits; one already committing is waited for (its outcome is the answer).
import { TransientError } from '../core/errors.ts';
import type { Store } from '../ports/store.ts';

export const withRequestDeadline = (store: Store, timeoutMs: number): Store => {
  const late = (): TransientError =>
    new TransientError(`database did not answer within ${timeoutMs} ms (--request-timeout-ms)`, {
      dependency: 'database',
      clientDetail: `database unavailable: no answer within ${timeoutMs} ms`,
    });
  const withTransaction: Store['withTransaction'] = (callback) => {
    let expired = false;
    let committing = false;
    let timer: NodeJS.Timeout | undefined;
    const work = store.withTransaction(async (tx) => {
      if (expired) throw late();
      const result = await callback(tx);
      if (expired) throw late();
      committing = true;
      return result;
    });
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (committing) return;
        expired = true;
        reject(late());
      }, timeoutMs);
    });
    work.catch(() => {}); // settles after the deadline answered; its outcome is logged by nobody
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  };
  return { ...store, withTransaction };
};
