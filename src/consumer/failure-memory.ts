// When each still-pending entry first failed, for the dead letter's first-failure time. Kept in
// memory and bounded: an entry another consumer failed first shows this consumer's first failure.
export type FailureMemory = {
  remember(stream: string, id: string, at: string): void;
  firstFailedAt(stream: string, id: string): string | undefined;
  forget(stream: string, id: string): void;
  readonly size: number;
};

export const createFailureMemory = (limit = 100_000): FailureMemory => {
  const firsts = new Map<string, string>();
  const keyOf = (stream: string, id: string): string => `${stream}\u0000${id}`;
  return {
    remember: (stream, id, at) => {
      const key = keyOf(stream, id);
      if (firsts.has(key)) return;
      if (firsts.size >= limit) {
        const oldest = firsts.keys().next().value;
        if (oldest !== undefined) firsts.delete(oldest);
      }
      firsts.set(key, at);
    },
    firstFailedAt: (stream, id) => firsts.get(keyOf(stream, id)),
    forget: (stream, id) => {
      if (firsts.size > 0) firsts.delete(keyOf(stream, id));
    },
    get size() {
      return firsts.size;
    },
  };
};
