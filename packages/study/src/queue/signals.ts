/**
 * Calls `stop` on the first SIGINT or SIGTERM and again on each later one, with the count (a second Ctrl-C forces).
 * Returns a function that removes the listeners.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const listener = (signal: NodeJS.Signals) => stop(signal, ++count);
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}
