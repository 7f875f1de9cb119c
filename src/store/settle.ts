/**
 * Runs a synchronous store operation and returns its outcome as the port's promise: a throw
 * becomes a rejection, never an exception out of the call.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
