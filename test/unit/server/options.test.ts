import t from 'tap';
import { DEFAULT_SERVER_OPTIONS, parseIntegerFlag, resolveServerOptions } from '../../../src/server/options.ts';

t.test('defaults follow controller-runtime and the API server limits', async (t) => {
  const options = resolveServerOptions();
  t.same(options, DEFAULT_SERVER_OPTIONS);
  t.equal(options.bodyLimitBytes, 7 * 1024 * 1024);
  t.equal(options.keepAliveTimeoutMs, 90_000);
  t.equal(options.headersTimeoutMs, 32_000);
  t.ok(Object.isFrozen(options));
  t.throws(() => {
    (options as { port: number }).port = 1;
  });
});

t.test('values are checked and errors name the flag', async (t) => {
  t.throws(() => resolveServerOptions({ port: 70_000 }), /^--port: must be a whole number from 0 to 65535, got 70000$/);
  t.throws(() => resolveServerOptions({ apiDeadlineMs: 0 }), /^--api-deadline-ms: /);
  t.throws(() => resolveServerOptions({ apiDeadlineMs: 30_000 }), /--api-deadline-ms: must be a whole number from 1 to 29000/);
  t.throws(() => resolveServerOptions({ keepAliveTimeoutMs: 1.5 }), /^--keep-alive-timeout-ms: /);
  t.throws(() => resolveServerOptions({ host: ' ' }), /^--host: must not be empty/);
  t.throws(() => resolveServerOptions({ bodyLimitBytes: 10 }), /^--body-limit-bytes: /);
  t.throws(
    () => resolveServerOptions({ headersTimeoutMs: 50_000, requestTimeoutMs: 40_000 }),
    /^--headers-timeout-ms: must not exceed --request-timeout-ms \(40000\)/,
  );
  t.throws(
    () => resolveServerOptions({ apiDeadlineMs: 20_000, headersTimeoutMs: 10_000, requestTimeoutMs: 20_000 }),
    /^--api-deadline-ms: must be below --request-timeout-ms/,
  );
});

t.test('undefined leaves the default in place', async (t) => {
  t.equal(resolveServerOptions({ port: undefined, apiDeadlineMs: 7_000 }).port, 8443);
  t.equal(resolveServerOptions({ apiDeadlineMs: 7_000 }).apiDeadlineMs, 7_000);
});

t.test('parseIntegerFlag', async (t) => {
  t.equal(parseIntegerFlag('--port', '8443'), 8443);
  t.throws(() => parseIntegerFlag('--port', '84a3'), /^--port: must be a whole number, got "84a3"$/);
  t.throws(() => parseIntegerFlag('--port', '-1'), /--port/);
  t.throws(() => parseIntegerFlag('--port', ''), /--port/);
});
