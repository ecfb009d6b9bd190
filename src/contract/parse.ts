// Pod annotations → InjectionRequest (DESIGN.md §3). Pure; collects every problem, not the first.
import {
  checkEnvName,
  checkMountPath,
  checkNoControlCharacters,
  checkRefreshInterval,
  checkSecretName,
  checkStoreName,
  parseNameList,
} from './rules.ts';
import { ANNOTATION_PREFIX } from './types.ts';
import type { InjectionRequest, Problem, SecretSpec, StoreKind, StoreRef } from './types.ts';

export const INJECT_ANNOTATION = `${ANNOTATION_PREFIX}inject`;
export const STATUS_ANNOTATION = `${ANNOTATION_PREFIX}status`;
export const STATUS_INJECTED = 'injected';
export const STORE_ANNOTATION = `${ANNOTATION_PREFIX}store`;
export const STORE_KIND_ANNOTATION = `${ANNOTATION_PREFIX}store-kind`;
export const MOUNT_PATH_ANNOTATION = `${ANNOTATION_PREFIX}mount-path`;
export const CONTAINERS_ANNOTATION = `${ANNOTATION_PREFIX}containers`;
export const INIT_CONTAINERS_ANNOTATION = `${ANNOTATION_PREFIX}init-containers`;
export const REFRESH_INTERVAL_ANNOTATION = `${ANNOTATION_PREFIX}refresh-interval`;
export const ROLE_ANNOTATION = `${ANNOTATION_PREFIX}role`;
export const SECRET_PREFIX = `${ANNOTATION_PREFIX}secret-`;
export const VERSION_PREFIX = `${ANNOTATION_PREFIX}version-`;
export const ENV_PREFIX = `${ANNOTATION_PREFIX}env-`;

export const DEFAULT_MOUNT_PATH = '/mnt/secrets';
export const DEFAULT_REFRESH_INTERVAL = '1h';
export const DEFAULT_STORE_KIND: StoreKind = 'ClusterSecretStore';
const STORE_KINDS: readonly StoreKind[] = ['ClusterSecretStore', 'SecretStore'];

export interface ParsedContract {
  /**
   * The request built from every annotation that passed its rules, so later steps (store
   * resolution, provider mapping) can still report their own problems. Only usable for
   * injection when `problems` is empty.
   */
  readonly request: InjectionRequest;
  readonly problems: readonly Problem[];
  /** Unknown `hybrid-secrets.io/*` keys: reported, never fatal. */
  readonly warnings: readonly string[];
}

/** True when the pod opted in: `hybrid-secrets.io/inject` is exactly "true". */
export function isSelected(annotations: Readonly<Record<string, unknown>>): boolean {
  return annotations[INJECT_ANNOTATION] === 'true';
}

export function parseContract(annotations: Readonly<Record<string, string>>): ParsedContract {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const problem = (field: string, message: string): void => {
    problems.push({ field, message });
  };

  const secrets = new Map<string, { key: string; property?: string }>();
  const versions = new Map<string, string>();
  const envNames = new Map<string, string>();
  const scalars = new Map<string, string>();

  const keys = Object.keys(annotations).filter((key) => key.startsWith(ANNOTATION_PREFIX)).sort();
  for (const key of keys) {
    const value = annotations[key] ?? '';
    const controlProblem = checkNoControlCharacters(value);
    if (controlProblem !== undefined) {
      problem(key, controlProblem);
      continue;
    }
    if (key.startsWith(SECRET_PREFIX)) {
      const name = key.slice(SECRET_PREFIX.length);
      const nameProblem = checkSecretName(name);
      const ref = parseRemoteRef(value);
      if (nameProblem !== undefined) problem(key, nameProblem);
      if ('message' in ref) problem(key, ref.message);
      if (nameProblem === undefined && !('message' in ref)) secrets.set(name, ref);
    } else if (key.startsWith(VERSION_PREFIX)) {
      if (value === '') problem(key, 'the version is empty; give the remote version to read, or remove the annotation to read the latest');
      else versions.set(key.slice(VERSION_PREFIX.length), value);
    } else if (key.startsWith(ENV_PREFIX)) {
      const envProblem = checkEnvName(value);
      if (envProblem !== undefined) problem(key, envProblem);
      else envNames.set(key.slice(ENV_PREFIX.length), value);
    } else if (KNOWN_SCALARS.has(key)) {
      scalars.set(key, value);
    } else if (key !== INJECT_ANNOTATION && key !== STATUS_ANNOTATION) {
      warnings.push(`unknown annotation ${key} is ignored; see the hybrid-secrets annotation reference for the supported keys`);
    }
  }

  // version-<name> and env-<name> must refer to a declared secret-<name>.
  for (const [name] of versions) {
    if (!secrets.has(name) && !(`${SECRET_PREFIX}${name}` in annotations)) {
      problem(`${VERSION_PREFIX}${name}`, `there is no ${SECRET_PREFIX}${name}; a version applies to a secret declared with ${SECRET_PREFIX}<name>`);
    }
  }
  const envOwners = new Map<string, string>();
  for (const [name, envName] of envNames) {
    if (!secrets.has(name) && !(`${SECRET_PREFIX}${name}` in annotations)) {
      problem(`${ENV_PREFIX}${name}`, `there is no ${SECRET_PREFIX}${name}; an env var reads a secret declared with ${SECRET_PREFIX}<name>`);
    }
    const earlier = envOwners.get(envName);
    if (earlier !== undefined) {
      problem(`${ENV_PREFIX}${name}`, `env var ${envName} is already set by ${ENV_PREFIX}${earlier}; each env var name may be used once`);
    } else {
      envOwners.set(envName, name);
    }
  }
  if (secrets.size === 0 && !keys.some((key) => key.startsWith(SECRET_PREFIX))) {
    problem(`${SECRET_PREFIX}<name>`, `no secret requested; add at least one ${SECRET_PREFIX}<name>: <key> or <key>#<property>`);
  }

  const store = parseStore(scalars, problem);
  const mountPath = scalars.get(MOUNT_PATH_ANNOTATION) ?? DEFAULT_MOUNT_PATH;
  const mountProblem = checkMountPath(mountPath);
  if (mountProblem !== undefined) problem(MOUNT_PATH_ANNOTATION, mountProblem);
  const containers = parseList(scalars, CONTAINERS_ANNOTATION, problem);
  const initContainers = parseList(scalars, INIT_CONTAINERS_ANNOTATION, problem) ?? [];
  const refreshInterval = scalars.get(REFRESH_INTERVAL_ANNOTATION) ?? DEFAULT_REFRESH_INTERVAL;
  const refreshProblem = checkRefreshInterval(refreshInterval);
  if (refreshProblem !== undefined) problem(REFRESH_INTERVAL_ANNOTATION, refreshProblem);
  const role = scalars.get(ROLE_ANNOTATION);
  if (role !== undefined && role.trim() === '') {
    problem(ROLE_ANNOTATION, 'the role is empty; name the auth role, or remove the annotation to use the store\'s own role');
  }

  const specs: SecretSpec[] = [...secrets.keys()].sort().map((name) => {
    const ref = secrets.get(name)!;
    const version = versions.get(name);
    const envName = envNames.get(name);
    return {
      name,
      key: ref.key,
      ...(ref.property !== undefined && { property: ref.property }),
      ...(version !== undefined && { version }),
      ...(envName !== undefined && { envName }),
    };
  });
  const request: InjectionRequest = {
    secrets: specs,
    ...(store !== undefined && { store }),
    mountPath,
    ...(containers !== undefined && { containers }),
    initContainers,
    refreshInterval,
    ...(role !== undefined && role.trim() !== '' && { role }),
  };
  return { request, problems, warnings };
}

const KNOWN_SCALARS = new Set([
  STORE_ANNOTATION,
  STORE_KIND_ANNOTATION,
  MOUNT_PATH_ANNOTATION,
  CONTAINERS_ANNOTATION,
  INIT_CONTAINERS_ANNOTATION,
  REFRESH_INTERVAL_ANNOTATION,
  ROLE_ANNOTATION,
]);

/** `<key>` or `<key>#<property>`, split at the first `#`. */
function parseRemoteRef(value: string): { key: string; property?: string } | { message: string } {
  const allowed = 'use <key> or <key>#<property>, e.g. db/creds#password';
  const hash = value.indexOf('#');
  const key = hash === -1 ? value : value.slice(0, hash);
  if (key.trim() === '') return { message: `the remote key is empty; ${allowed}` };
  if (key.trim() !== key) return { message: `the remote key '${key}' has surrounding blanks; ${allowed}` };
  if (hash === -1) return { key };
  const property = value.slice(hash + 1);
  if (property.trim() === '') return { message: `the property after '#' is empty; ${allowed}` };
  if (property.trim() !== property) return { message: `the property '${property}' has surrounding blanks; ${allowed}` };
  return { key, property };
}

function parseStore(
  scalars: ReadonlyMap<string, string>,
  problem: (field: string, message: string) => void,
): StoreRef | undefined {
  const name = scalars.get(STORE_ANNOTATION);
  const kindValue = scalars.get(STORE_KIND_ANNOTATION);
  let kind: StoreKind = DEFAULT_STORE_KIND;
  let valid = true;
  if (kindValue !== undefined) {
    const known = STORE_KINDS.find((candidate) => candidate === kindValue);
    if (known === undefined) {
      problem(STORE_KIND_ANNOTATION, `'${kindValue}' is not a store kind; use ClusterSecretStore or SecretStore (a SecretStore in the pod's namespace)`);
      valid = false;
    } else {
      kind = known;
      if (name === undefined) {
        problem(STORE_KIND_ANNOTATION, `a store kind needs a store name; set ${STORE_ANNOTATION} as well, or remove ${STORE_KIND_ANNOTATION} to use the server's default store`);
      }
    }
  }
  if (name === undefined) return undefined;
  const nameProblem = checkStoreName(name);
  if (nameProblem !== undefined) {
    problem(STORE_ANNOTATION, nameProblem);
    valid = false;
  }
  return valid ? { name, kind } : undefined;
}

function parseList(
  scalars: ReadonlyMap<string, string>,
  key: string,
  problem: (field: string, message: string) => void,
): string[] | undefined {
  const value = scalars.get(key);
  if (value === undefined) return undefined;
  const parsed = parseNameList(value);
  if ('message' in parsed) {
    problem(key, parsed.message);
    return undefined;
  }
  return parsed.names;
}
