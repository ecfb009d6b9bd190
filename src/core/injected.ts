// Renders the generated objects of a pod the webhook already injected (used by the reconciler).
//
// planInjection skips injected pods, so this hands it the pod as it was before injection: the
// same pod minus what the patch added (status annotation, our volume, its mounts, the env vars
// reading the generated Secret). The objects depend only on the annotations and the store, so
// an unchanged pod renders exactly the objects it mounts. Anything else — a denial, a changed
// store — yields undefined, and the reconciler leaves the pod's objects as they are.
import { STATUS_ANNOTATION } from '../contract/parse.ts';
import { planInjection } from './plan.ts';
import type { GeneratedObjects, InjectionConfig, InjectionTarget } from './types.ts';
import { isRecord } from './values.ts';
import { CSI_DRIVER, VOLUME_NAME } from '../render/pod-patch.ts';
import type { StoreCatalog } from '../stores/types.ts';

export function renderInjectedPod(
  target: InjectionTarget,
  catalog: StoreCatalog,
  config: InjectionConfig,
): GeneratedObjects | undefined {
  const original = withoutInjection(target.pod);
  if (original === undefined) return undefined;
  let first: GeneratedObjects | undefined;
  for (const pod of asAdmitted(original.pod)) {
    const plan = planInjection({ ...target, pod }, catalog, config);
    if (plan.action !== 'inject') continue;
    if (plan.objects.name === original.objectName) return plan.objects;
    first ??= plan.objects;
  }
  return first;
}

/**
 * The pod as admission saw it. A bare pod created with generateName had no name then, so its
 * objects are named after the generateName; try that too.
 */
function asAdmitted(pod: { metadata: Record<string, unknown>; spec: Record<string, unknown> }): InjectionTarget['pod'][] {
  const { metadata } = pod;
  if (typeof metadata.generateName !== 'string' || metadata.name === undefined) return [pod];
  const { name: _name, ...withoutName } = metadata;
  return [pod, { ...pod, metadata: withoutName }];
}

/** The pod before our patch, or undefined when it does not carry our volume. */
function withoutInjection(
  pod: InjectionTarget['pod'],
): { pod: { metadata: Record<string, unknown>; spec: Record<string, unknown> }; objectName: string } | undefined {
  if (!isRecord(pod.metadata) || !isRecord(pod.spec)) return undefined;
  const volumes = Array.isArray(pod.spec.volumes) ? pod.spec.volumes : [];
  const ours = volumes.find((v) => isRecord(v) && v.name === VOLUME_NAME);
  const csi = isRecord(ours) && isRecord(ours.csi) ? ours.csi : undefined;
  const attributes = csi !== undefined && csi.driver === CSI_DRIVER && isRecord(csi.volumeAttributes) ? csi.volumeAttributes : undefined;
  const objectName = attributes?.secretProviderClass;
  if (typeof objectName !== 'string') return undefined;

  const annotations = isRecord(pod.metadata.annotations) ? { ...pod.metadata.annotations } : {};
  delete annotations[STATUS_ANNOTATION];
  const restVolumes = volumes.filter((v) => v !== ours);
  const spec: Record<string, unknown> = { ...pod.spec };
  if (restVolumes.length > 0) spec.volumes = restVolumes;
  else delete spec.volumes;
  for (const list of ['containers', 'initContainers'] as const) {
    if (Array.isArray(spec[list])) spec[list] = spec[list].map((c: unknown) => (isRecord(c) ? withoutMountAndEnv(c, objectName) : c));
  }
  return { pod: { metadata: { ...pod.metadata, annotations }, spec }, objectName };
}

function withoutMountAndEnv(container: Record<string, unknown>, objectName: string): Record<string, unknown> {
  const result = { ...container };
  if (Array.isArray(container.volumeMounts)) {
    const mounts = container.volumeMounts.filter((m) => !(isRecord(m) && m.name === VOLUME_NAME));
    if (mounts.length > 0) result.volumeMounts = mounts;
    else delete result.volumeMounts;
  }
  if (Array.isArray(container.env)) {
    const env = container.env.filter((e) => !readsGeneratedSecret(e, objectName));
    if (env.length > 0) result.env = env;
    else delete result.env;
  }
  return result;
}

function readsGeneratedSecret(entry: unknown, objectName: string): boolean {
  return isRecord(entry) && isRecord(entry.valueFrom) && isRecord(entry.valueFrom.secretKeyRef) && entry.valueFrom.secretKeyRef.name === objectName;
}
