/**
 * Crash-test kill points. When the test-only environment variable `AKAMU_TEST_FAILPOINT` names a
 * step, the process sends itself SIGKILL on reaching it, so tests can stop a commit at every step and
 * check what the next run finds. Unset (always, outside the tests) this does nothing.
 */
const wanted = process.env.AKAMU_TEST_FAILPOINT;

/** Die here (SIGKILL, no clean-up of any kind) if the tests asked for this step. */
export function failpoint(step: string): void {
  if (wanted === undefined || wanted !== step) return;
  process.kill(process.pid, 'SIGKILL');
  // the signal is delivered asynchronously: do nothing more until it lands
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
