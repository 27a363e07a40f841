// Bounds a probe of a dependency in time, so a stalled Redis or database cannot stall a scrape.

export const withDeadline = async <T>(task: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  task.catch(() => {}); // the loser of the race must not become an unhandled rejection
  try {
    return await Promise.race([task, deadline]);
  } finally {
    clearTimeout(timer);
  }
};
