// Small helpers shared by the backend mappings. Pure.
import { SECRET_PREFIX, STORE_ANNOTATION, VERSION_PREFIX } from '../contract/parse.ts';
import type { Problem } from '../contract/types.ts';
import type { EsoStore } from '../stores/types.ts';
import { isRecord } from '../core/values.ts';
import type { CsiProviderResult } from './types.ts';

/** The annotation a problem with secret `name` is reported on. */
export function secretField(name: string): string {
  return `${SECRET_PREFIX}${name}`;
}

export function versionField(name: string): string {
  return `${VERSION_PREFIX}${name}`;
}

/** `ClusterSecretStore "shared"` or `SecretStore "team-a/vault"`, for messages. */
export function describeStore(store: EsoStore): string {
  const { name, namespace } = store.metadata;
  const qualified = store.kind === 'SecretStore' && namespace ? `${namespace}/${name}` : name;
  return `${store.kind} "${qualified}"`;
}

/** A problem with the store itself: the user can only pick another store (or ask its owner). */
export function storeProblem(store: EsoStore, message: string): Problem {
  return { field: STORE_ANNOTATION, message: `${describeStore(store)}: ${message}` };
}

export function failed(problems: readonly Problem[]): CsiProviderResult {
  return { ok: false, problems };
}

/** The object at `key`, or undefined when absent or not an object. */
export function recordAt(
  parent: Readonly<Record<string, unknown>> | undefined,
  key: string,
): Readonly<Record<string, unknown>> | undefined {
  const value = parent?.[key];
  return isRecord(value) ? value : undefined;
}

/**
 * A non-empty string at `key` of the backend's config; undefined when absent or empty.
 * A present value of another type is reported, since ESO's schema would not have allowed it.
 */
export function optionalString(
  config: Readonly<Record<string, unknown>> | undefined,
  key: string,
  fieldPath: string,
  store: EsoStore,
  problems: Problem[],
): string | undefined {
  const value = config?.[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    problems.push(storeProblem(store, `spec.provider.${fieldPath} must be a string`));
    return undefined;
  }
  return value;
}

export function requiredString(
  config: Readonly<Record<string, unknown>> | undefined,
  key: string,
  fieldPath: string,
  store: EsoStore,
  problems: Problem[],
): string | undefined {
  const raw = config?.[key];
  if (raw === undefined || raw === null || raw === '') {
    problems.push(storeProblem(store, `spec.provider.${fieldPath} is required`));
    return undefined;
  }
  return optionalString(config, key, fieldPath, store, problems);
}

/**
 * A store annotation as text. Annotations are strings in the API; a stores file may still hold
 * an unquoted `true`, which is read as the text the user meant.
 */
export function storeAnnotation(store: EsoStore, key: string): string | undefined {
  const value: unknown = store.metadata.annotations?.[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}
