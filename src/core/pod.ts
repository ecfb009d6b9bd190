// A checked view of an untrusted pod (or pod template), and the containers a request targets.
// Pure. Reading never throws: shapes the core cannot work with become problems on the pod field.
import {
  CONTAINERS_ANNOTATION,
  ENV_PREFIX,
  INIT_CONTAINERS_ANNOTATION,
  MOUNT_PATH_ANNOTATION,
} from '../contract/parse.ts';
import type { InjectionRequest, Problem } from '../contract/types.ts';
import { isRecord, isStringMap } from './values.ts';

export interface ContainerView {
  readonly name: string;
  /** `containers` or `initContainers`. */
  readonly list: 'containers' | 'initContainers';
  readonly index: number;
  /** Whether the container has a `volumeMounts` array (append) or not (create it). */
  readonly hasVolumeMounts: boolean;
  /** The container's `volumeMounts`, items unchecked (read by hasItemWith, never copied). */
  readonly volumeMounts: readonly unknown[];
  readonly hasEnv: boolean;
  /** The container's `env`, items unchecked. */
  readonly env: readonly unknown[];
}

export interface PodView {
  readonly hasMetadata: boolean;
  readonly metadata: Record<string, unknown>;
  readonly hasAnnotations: boolean;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerView[];
  readonly initContainers: readonly ContainerView[];
  readonly hasVolumes: boolean;
  /** The pod's `volumes`, items unchecked. */
  readonly volumes: readonly unknown[];
}

/** Reads what the core needs from `pod`; problems name the offending pod field. */
export function readPod(pod: { readonly metadata?: unknown; readonly spec?: unknown }): {
  pod: PodView;
  problems: Problem[];
} {
  const problems: Problem[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  const rawMetadata = isRecord(pod) ? pod.metadata : undefined;
  if (rawMetadata !== undefined && rawMetadata !== null && !isRecord(rawMetadata)) problem('metadata', 'must be an object');
  const metadata = isRecord(rawMetadata) ? rawMetadata : {};
  const rawAnnotations = metadata.annotations;
  const annotationsPresent = rawAnnotations !== undefined && rawAnnotations !== null;
  const annotationsValid = annotationsPresent && isStringMap(rawAnnotations);
  if (annotationsPresent && !annotationsValid) problem('metadata.annotations', 'must map names to string values');
  // Keep the string entries of a malformed map: a selected pod must be denied, not skipped.
  // A well-formed map is read in place (never written): this runs for every pod.
  const annotations = annotationsValid
    ? rawAnnotations
    : isRecord(rawAnnotations)
      ? Object.fromEntries(Object.entries(rawAnnotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
      : {};

  const rawSpec = isRecord(pod) ? pod.spec : undefined;
  const spec = isRecord(rawSpec) ? rawSpec : {};
  if (!isRecord(rawSpec)) problem('spec', 'the pod has no spec');
  const containers = readContainers(spec, 'containers', problem);
  if (isRecord(rawSpec) && containers.length === 0 && !problems.some((p) => p.field.startsWith('spec.containers'))) {
    problem('spec.containers', 'the pod has no containers');
  }
  const initContainers = readContainers(spec, 'initContainers', problem);

  const rawVolumes = spec.volumes;
  const volumesPresent = rawVolumes !== undefined && rawVolumes !== null;
  if (volumesPresent && !Array.isArray(rawVolumes)) problem('spec.volumes', 'must be a list');
  const volumes: readonly unknown[] = Array.isArray(rawVolumes) ? rawVolumes : NONE;

  return {
    pod: {
      hasMetadata: isRecord(rawMetadata),
      metadata,
      hasAnnotations: isRecord(rawAnnotations),
      annotations,
      containers,
      initContainers,
      hasVolumes: Array.isArray(rawVolumes),
      volumes,
    },
    problems,
  };
}

function readContainers(
  spec: Record<string, unknown>,
  list: 'containers' | 'initContainers',
  problem: (field: string, message: string) => void,
): ContainerView[] {
  const raw = spec[list];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problem(`spec.${list}`, 'must be a list');
    return [];
  }
  const views: ContainerView[] = [];
  raw.forEach((container: unknown, index) => {
    const field = `spec.${list}[${index}]`;
    if (!isRecord(container) || typeof container.name !== 'string' || container.name === '') {
      problem(`${field}.name`, 'every container needs a name');
      return;
    }
    const mounts = readList(container.volumeMounts, `${field}.volumeMounts`, problem);
    const env = readList(container.env, `${field}.env`, problem);
    views.push({
      name: container.name,
      list,
      index,
      hasVolumeMounts: mounts !== undefined,
      volumeMounts: mounts ?? NONE,
      hasEnv: env !== undefined,
      env: env ?? NONE,
    });
  });
  return views;
}

const NONE: readonly unknown[] = Object.freeze([]);

/** Whether one of the objects in `items` has `field` equal to `value`; other items are skipped. */
export function hasItemWith(items: readonly unknown[], field: string, value: string): boolean {
  for (const item of items) {
    if (isRecord(item) && item[field] === value) return true;
  }
  return false;
}

/** The env names in `env` that `names` holds; undefined when there are none (the usual case). */
function definedAmong(env: readonly unknown[], names: ReadonlySet<string>): Set<string> | undefined {
  let defined: Set<string> | undefined;
  for (const item of env) {
    if (!isRecord(item) || typeof item.name !== 'string' || !names.has(item.name)) continue;
    (defined ??= new Set()).add(item.name);
  }
  return defined;
}

function readList(value: unknown, field: string, problem: (field: string, message: string) => void): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problem(field, 'must be a list');
    return undefined;
  }
  return value;
}

/**
 * The containers that get the mount (and env vars): the listed ones, or every container, plus
 * the listed init containers. Problems for names that do not exist and for conflicts with what
 * the containers already define.
 */
export function selectTargets(request: InjectionRequest, pod: PodView): { targets: ContainerView[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const pick = (views: readonly ContainerView[], names: readonly string[], field: string, what: string): ContainerView[] =>
    names.flatMap((name) => {
      const view = views.find((candidate) => candidate.name === name);
      if (view === undefined) {
        const existing = views.map((candidate) => candidate.name).join(', ') || 'none';
        problems.push({ field, message: `${what} '${name}' does not exist; the pod's ${what}s are: ${existing}` });
        return [];
      }
      return [view];
    });
  // Env names the request sets, looked up once per env entry of each target (not per secret).
  const requestedEnv = new Set<string>();
  for (const secret of request.secrets) if (secret.envName !== undefined) requestedEnv.add(secret.envName);
  const targets = [
    ...(request.containers === undefined
      ? pod.containers
      : pick(pod.containers, request.containers, CONTAINERS_ANNOTATION, 'container')),
    ...pick(pod.initContainers, request.initContainers, INIT_CONTAINERS_ANNOTATION, 'init container'),
  ];
  for (const target of targets) {
    const kind = target.list === 'containers' ? 'container' : 'init container';
    if (hasItemWith(target.volumeMounts, 'mountPath', request.mountPath)) {
      problems.push({
        field: MOUNT_PATH_ANNOTATION,
        message: `${kind} '${target.name}' already mounts a volume at ${request.mountPath}; choose another mount-path`,
      });
    }
    const defined = requestedEnv.size === 0 ? undefined : definedAmong(target.env, requestedEnv);
    if (defined === undefined) continue;
    for (const secret of request.secrets) {
      if (secret.envName !== undefined && defined.has(secret.envName)) {
        problems.push({
          field: `${ENV_PREFIX}${secret.name}`,
          message: `${kind} '${target.name}' already defines env var ${secret.envName}; choose another name or remove it from the container`,
        });
      }
    }
  }
  return { targets, problems };
}
