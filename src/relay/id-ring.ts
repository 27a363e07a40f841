// The ids of the last N entries this relay added to one stream, oldest first: the N-th newest is
// where a cap of N entries starts, known without reading the stream back.

export type IdRing = {
  push(id: string): void;
  readonly size: number;
  /** The oldest id kept, once N ids were pushed; undefined before. */
  boundary(): string | undefined;
};

export const createIdRing = (capacity: number): IdRing => {
  const ids: string[] = new Array(capacity);
  let next = 0;
  let size = 0;
  return {
    push: (id) => {
      if (capacity === 0) return;
      ids[next] = id;
      next = (next + 1) % capacity;
      if (size < capacity) size += 1;
    },
    get size() {
      return size;
    },
    boundary: () => (capacity > 0 && size === capacity ? ids[next] : undefined),
  };
};
