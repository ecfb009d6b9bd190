import fjp from 'fast-json-patch';
import t from 'tap';
import { parseContract } from '../../../src/contract/parse.ts';
import { readPod, selectTargets } from '../../../src/core/pod.ts';
import { escapePointer, podPatch } from '../../../src/render/pod-patch.ts';
import { annotations } from '../../support/core-fixtures.ts';

function patchFor(pod: { metadata?: unknown; spec?: unknown }, extra: Record<string, string> = {}) {
  const request = parseContract(annotations(extra)).request;
  const { pod: view } = readPod(pod);
  const { targets } = selectTargets(request, view);
  return podPatch(view, request, targets, 'web-0123456789');
}

t.test('creates metadata, annotations, volumes, mounts and env when missing', async (t) => {
  const pod = { spec: { containers: [{ name: 'a' }] } };
  const patch = patchFor(pod, { 'hybrid-secrets.io/env-db': 'DB' });
  t.same(patch.map((op) => [op.op, op.path]), [
    ['add', '/metadata'],
    ['add', '/spec/volumes'],
    ['add', '/spec/containers/0/volumeMounts'],
    ['add', '/spec/containers/0/env'],
  ]);
  const after = fjp.applyPatch(structuredClone(pod), patch, true, false).newDocument as Record<string, unknown>;
  t.same(after.metadata, { annotations: { 'hybrid-secrets.io/status': 'injected' } });
  const withMetadata = { metadata: { name: 'x' }, spec: { containers: [{ name: 'a' }] } };
  const second = patchFor(withMetadata);
  t.same(second[0], { op: 'add', path: '/metadata/annotations', value: { 'hybrid-secrets.io/status': 'injected' } });
  t.doesNotThrow(() => fjp.applyPatch(structuredClone(withMetadata), second, true, false));
});

t.test('appends to what exists, one operation per item', async (t) => {
  const pod = {
    metadata: { annotations: { a: 'b' } },
    spec: { volumes: [], containers: [{ name: 'a', env: [], volumeMounts: [] }] },
  };
  const patch = patchFor(pod, { 'hybrid-secrets.io/secret-api': 'k', 'hybrid-secrets.io/env-db': 'DB', 'hybrid-secrets.io/env-api': 'API' });
  t.same(patch.map((op) => op.path), [
    '/metadata/annotations/hybrid-secrets.io~1status',
    '/spec/volumes/-',
    '/spec/containers/0/volumeMounts/-',
    '/spec/containers/0/env/-',
    '/spec/containers/0/env/-',
  ]);
  t.same(patch.slice(3).map((op) => (op as { value: { name: string } }).value.name), ['API', 'DB'], 'secrets in name order');
});

t.test('JSON pointer escaping', async (t) => {
  t.equal(escapePointer('hybrid-secrets.io/status'), 'hybrid-secrets.io~1status');
  t.equal(escapePointer('a~b/c'), 'a~0b~1c');
});
