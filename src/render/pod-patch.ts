// RFC 6902 operations that wire the generated objects into a pod (DESIGN.md §4). Pure.
// Built directly from the checked pod view rather than by diffing whole pods: this is the hot path.
import type { Operation } from 'fast-json-patch';
import { STATUS_ANNOTATION, STATUS_INJECTED } from '../contract/parse.ts';
import type { InjectionRequest } from '../contract/types.ts';
import type { ContainerView, PodView } from '../core/pod.ts';

export const VOLUME_NAME = 'hybrid-secrets';
export const CSI_DRIVER = 'secrets-store.csi.k8s.io';

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function podPatch(
  pod: PodView,
  request: InjectionRequest,
  targets: readonly ContainerView[],
  objectName: string,
): Operation[] {
  const operations: Operation[] = [];
  const status = { [STATUS_ANNOTATION]: STATUS_INJECTED };
  if (!pod.hasMetadata) {
    operations.push({ op: 'add', path: '/metadata', value: { annotations: status } });
  } else if (!pod.hasAnnotations) {
    operations.push({ op: 'add', path: '/metadata/annotations', value: status });
  } else {
    operations.push({ op: 'add', path: `/metadata/annotations/${escapePointer(STATUS_ANNOTATION)}`, value: STATUS_INJECTED });
  }

  const volume = {
    name: VOLUME_NAME,
    csi: { driver: CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass: objectName } },
  };
  operations.push(...appendAll('/spec/volumes', pod.hasVolumes, [volume]));

  const mount = { name: VOLUME_NAME, mountPath: request.mountPath, readOnly: true };
  const env = request.secrets.flatMap((secret) =>
    secret.envName === undefined
      ? []
      : [{ name: secret.envName, valueFrom: { secretKeyRef: { name: objectName, key: secret.name } } }],
  );
  for (const target of targets) {
    const base = `/spec/${target.list}/${target.index}`;
    operations.push(...appendAll(`${base}/volumeMounts`, target.hasVolumeMounts, [mount]));
    if (env.length > 0) operations.push(...appendAll(`${base}/env`, target.hasEnv, env));
  }
  return operations;
}

/**
 * Everything podPatch reads from the pod and the targets, as a short string. For one request and
 * object name, pods with the same shape get the same patch: the pods of a workload differ in
 * names and token volumes, not in these.
 */
export function podPatchShape(pod: PodView, targets: readonly ContainerView[]): string {
  let shape = `${pod.hasMetadata ? 'M' : 'm'}${pod.hasAnnotations ? 'A' : 'a'}${pod.hasVolumes ? 'V' : 'v'}`;
  for (const target of targets) {
    shape += `|${target.list === 'containers' ? 'c' : 'i'}${target.index}${target.hasVolumeMounts ? 'M' : 'm'}${target.hasEnv ? 'E' : 'e'}`;
  }
  return shape;
}

/** Adds the whole array when it is missing, else appends each item. */
function appendAll(path: string, exists: boolean, items: readonly unknown[]): Operation[] {
  return exists ? items.map((value) => ({ op: 'add', path: `${path}/-`, value })) : [{ op: 'add', path, value: [...items] }];
}
