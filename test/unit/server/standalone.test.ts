import t from 'tap';
import { LoggingObjectWriter, createStandaloneRuntime, startStandaloneRuntime } from '../../../src/runtime/standalone.ts';
import { MemoryStoreCatalog } from '../../../src/stores/catalog.ts';
import { generatedObjects } from './fixtures/reviews.ts';

function recordingLog() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  return {
    lines,
    info: (fields: object, message: string) => lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
    debug: (fields: object, message: string) => lines.push({ level: 'debug', fields: fields as Record<string, unknown>, message }),
  };
}

t.test('the logging writer names the objects at info and keeps their content for debug', async (t) => {
  const log = recordingLog();
  await new LoggingObjectWriter(log).ensure(generatedObjects('team-a', 'web-0a1b2c3d'), { signal: new AbortController().signal });
  t.match(log.lines[0], {
    level: 'info',
    fields: { externalSecret: 'team-a/web-0a1b2c3d', secretProviderClass: 'team-a/web-0a1b2c3d', specHash: '0a1b2c3d' },
  });
  t.notOk('spec' in JSON.parse(JSON.stringify(log.lines[0]?.fields)), 'no object content at info');
  t.match(log.lines[1], { level: 'debug', fields: { externalSecret: { kind: 'ExternalSecret' } } });
});

t.test('each object is reported at info once, like a cluster writes it once', async (t) => {
  const log = recordingLog();
  const writer = new LoggingObjectWriter(log);
  const signal = new AbortController().signal;
  await writer.ensure(generatedObjects('team-a', 'web-0a1b2c3d'), { signal });
  await writer.ensure(generatedObjects('team-a', 'web-0a1b2c3d'), { signal });
  await writer.ensure(generatedObjects('team-b', 'web-0a1b2c3d'), { signal });
  const info = log.lines.filter((line) => line.level === 'info').map((line) => line.fields.externalSecret);
  t.same(info, ['team-a/web-0a1b2c3d', 'team-b/web-0a1b2c3d'], 'the repeat in team-a is not reported again');
  t.ok(writer.isCurrent(generatedObjects('team-a', 'web-0a1b2c3d')), 'reported objects are current');
  t.notOk(writer.isCurrent(generatedObjects('team-c', 'web-0a1b2c3d')), 'others are not');
});

t.test('an aborted signal rejects like a real writer would', async (t) => {
  const controller = new AbortController();
  controller.abort();
  await t.rejects(new LoggingObjectWriter(recordingLog()).ensure(generatedObjects(), { signal: controller.signal }));
});

t.test('a standalone runtime is ready at once and serves the given catalog', async (t) => {
  const catalog = new MemoryStoreCatalog({ clusterStores: [], namespacedStores: [], namespaces: new Map() });
  const runtime = createStandaloneRuntime({ catalog, log: recordingLog() });
  t.equal(runtime.catalog, catalog);
  t.equal(runtime.isReady(), true);
  await runtime.stop();
});

t.test('loading the stores file reports the file', async (t) => {
  await t.rejects(
    startStandaloneRuntime({ storesFile: '/nonexistent/stores.yaml', defaultNamespace: 'default', log: recordingLog() }),
    /\/nonexistent\/stores\.yaml: cannot read the stores file/,
  );
  const runtime = await startStandaloneRuntime({
    storesFile: new URL('../../../examples/stores.yaml', import.meta.url).pathname,
    defaultNamespace: 'default',
    log: recordingLog(),
  });
  t.ok(runtime.catalog.clusterStore('vault'), 'the example stores are loaded');
});
