/**
 * Waits for `promise` for at most `ms`: how it settled, or 'timeout'. The timer is cleared either way, and
 * a late result or error of `promise` is absorbed (no unhandled rejection). For bounded shutdown steps.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<'fulfilled' | 'rejected' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'fulfilled' as const, () => 'rejected' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
