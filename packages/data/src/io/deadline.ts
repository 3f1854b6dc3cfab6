/**
 * Settles as `work` does, or rejects with `onTimeout()` after `ms` milliseconds, whichever comes first. The timer is
 * kept referenced while `work` is pending: a parser that never settles becomes an error instead of a silent exit
 * (Node exits with code 13 when nothing but a pending promise is left). It is cleared as soon as `work` settles.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
