import t from 'tap';
import { EventRecorder } from '../../../src/kube/events.ts';
import { FakeClock, FakeWriteApi, silentLogger } from './fakes.ts';

const subject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: 'team-a', name: 'web-7d9f', uid: 'uid-rs' };

function setup() {
  const clock = new FakeClock();
  const api = new FakeWriteApi();
  const recorder = new EventRecorder({ instance: 'replica-0', dedupeMs: 60_000, apiDeadlineMs: 1_000 }, { api, clock, logger: silentLogger });
  return { clock, api, recorder };
}

t.test('writes a core/v1 Event about the subject', async (t) => {
  const { api, recorder } = setup();
  await recorder.emit(subject, 'Warning', 'GeneratedObjectsApplyFailed', 'cannot apply ExternalSecret team-a/web-abc: forbidden');
  t.equal(api.events.length, 1);
  const event = api.events[0]!;
  t.match(event, {
    metadata: { namespace: 'team-a', name: /^web-7d9f\.[0-9a-f]{16}$/ },
    involvedObject: subject,
    type: 'Warning',
    reason: 'GeneratedObjectsApplyFailed',
    message: 'cannot apply ExternalSecret team-a/web-abc: forbidden',
    reportingComponent: 'hybrid-secrets',
    reportingInstance: 'replica-0',
    count: 1,
  });
});

t.test('drops repeats of one reason on one object within dedupeMs', async (t) => {
  const { api, clock, recorder } = setup();
  await recorder.emit(subject, 'Warning', 'A', 'first');
  await recorder.emit(subject, 'Warning', 'A', 'again');
  await recorder.emit(subject, 'Warning', 'B', 'other reason');
  await recorder.emit({ ...subject, name: 'other', uid: 'uid-2' }, 'Warning', 'A', 'other object');
  t.same(api.events.map((e) => e.message), ['first', 'other reason', 'other object']);
  await clock.advance(60_000);
  await recorder.emit(subject, 'Warning', 'A', 'later');
  t.equal(api.events.at(-1)?.message, 'later');
});

t.test('truncates long messages to the API limit', async (t) => {
  const { api, recorder } = setup();
  await recorder.emit(subject, 'Normal', 'Long', 'x'.repeat(5_000));
  t.equal(api.events[0]!.message!.length, 1024);
});

t.test('a failing event write never rejects', async (t) => {
  const { api, recorder } = setup();
  api.createEvent = async () => {
    throw new Error('events are forbidden');
  };
  await t.resolves(recorder.emit(subject, 'Normal', 'X', 'y'));
});
