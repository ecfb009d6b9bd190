// Where the pod templates are in the workload kinds `inject` understands. Pure.
import { isRecord } from '../core/values.ts';

export type YamlPath = readonly (string | number)[];

export interface PodTemplateLocation {
  /** Path of the pod (template) inside the document: metadata + spec live under it. */
  readonly path: YamlPath;
  /** The object that holds the template (the document itself, or a List item). */
  readonly object: Record<string, unknown>;
  /** The pod (template) itself. */
  readonly template: Record<string, unknown>;
  /** Workload name for generated objects; absent for Pods (derived from the pod). */
  readonly workload?: string;
}

/** Template path per kind; the Pod is its own template. */
const TEMPLATE_PATHS: Readonly<Record<string, YamlPath>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/**
 * The pod templates of a document: one for a workload, one per workload item of a `kind: List`,
 * none for anything else. A workload without a template at its path yields none (nothing to do).
 */
export function podTemplates(document: unknown): PodTemplateLocation[] {
  if (!isRecord(document)) return [];
  if (document.kind === 'List' && Array.isArray(document.items)) {
    return document.items.flatMap((item: unknown, index) =>
      podTemplateOf(item).map((location) => ({ ...location, path: ['items', index, ...location.path] })),
    );
  }
  return podTemplateOf(document);
}

function podTemplateOf(object: unknown): PodTemplateLocation[] {
  if (!isRecord(object) || typeof object.kind !== 'string' || !Object.hasOwn(TEMPLATE_PATHS, object.kind)) return [];
  const path = TEMPLATE_PATHS[object.kind] ?? [];
  let template: unknown = object;
  for (const segment of path) template = isRecord(template) ? template[segment] : undefined;
  if (!isRecord(template)) return [];
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const workload = object.kind !== 'Pod' && typeof metadata.name === 'string' ? metadata.name : undefined;
  return [{ path, object, template, ...(workload !== undefined && { workload }) }];
}
