// Which store a pod gets, and whether its namespace may use it. Pure.
// ClusterSecretStore `spec.conditions` are evaluated as ESO's client manager does, so creating a
// pod never reads a store that an ExternalSecret in the same namespace could not read either.
import { STORE_ANNOTATION } from '../contract/parse.ts';
import type { Problem, StoreRef } from '../contract/types.ts';
import { LruMap } from '../core/lru.ts';
import type { EsoStore, LabelSelector, StoreCatalog, StoreCondition } from './types.ts';

/** The label the API server sets on every namespace; ESO matches `namespaces` through it. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type StoreResolution =
  | { readonly ok: true; readonly ref: StoreRef; readonly store: EsoStore }
  | { readonly ok: false; readonly problem: Problem };

/**
 * Finds the store a request names (or the default store) and checks that `namespace` may use it.
 * A problem always names the store, its kind and the namespace.
 */
export function resolveStore(
  requested: StoreRef | undefined,
  defaultStore: StoreRef | undefined,
  namespace: string,
  catalog: StoreCatalog,
): StoreResolution {
  const ref = requested ?? defaultStore;
  if (ref === undefined) {
    return fail(`no store named and the server has no default store; set ${STORE_ANNOTATION} to a ClusterSecretStore (or a SecretStore with store-kind: SecretStore)`);
  }
  const origin = requested === undefined ? 'the default store ' : '';
  if (ref.kind === 'SecretStore') {
    const store = catalog.namespacedStore(namespace, ref.name);
    return store === undefined
      ? fail(`${origin}SecretStore '${ref.name}' does not exist in namespace '${namespace}'; a SecretStore must be in the pod's namespace`)
      : { ok: true, ref, store };
  }
  const store = catalog.clusterStore(ref.name);
  if (store === undefined) {
    return fail(`${origin}ClusterSecretStore '${ref.name}' does not exist (requested from namespace '${namespace}')`);
  }
  const access = clusterStoreAccess(store.spec.conditions, namespace, catalog.namespaceLabels(namespace));
  if (!access.allowed) {
    return fail(`${origin}ClusterSecretStore '${ref.name}' may not be used from namespace '${namespace}': ${access.reason}`);
  }
  return { ok: true, ref, store };
}

function fail(message: string): StoreResolution {
  return { ok: false, problem: { field: STORE_ANNOTATION, message } };
}

export type Access = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/**
 * ESO's rule: no conditions allow every namespace; otherwise a namespace is allowed when any
 * condition matches it through its namespaceSelector, any of its `namespaces`, or any of its
 * `namespaceRegexes` (unanchored, like Go's regexp.MatchString). Fails closed: a selector is
 * never matched against a namespace whose labels are unknown, and an invalid selector or
 * regular expression matches nothing.
 */
export function clusterStoreAccess(
  conditions: readonly StoreCondition[] | undefined,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): Access {
  if (conditions === undefined || conditions.length === 0) return { allowed: true };
  const labels = namespaceLabels === undefined ? undefined : { ...namespaceLabels, [NAMESPACE_NAME_LABEL]: namespace };
  let labelsNeeded = false;
  for (const condition of conditions) {
    if (condition.namespaceSelector !== undefined && condition.namespaceSelector !== null) {
      if (labels === undefined) labelsNeeded = true;
      else if (selectorMatches(condition.namespaceSelector, labels)) return { allowed: true };
    }
    if ((condition.namespaces ?? []).includes(namespace)) return { allowed: true };
    if ((condition.namespaceRegexes ?? []).some((pattern) => goRegexMatches(pattern, namespace))) {
      return { allowed: true };
    }
  }
  return {
    allowed: false,
    reason: labelsNeeded
      ? `no condition in its spec.conditions matches, and the namespace's labels are unknown, so its namespaceSelector cannot allow it`
      : `no condition in its spec.conditions matches this namespace`,
  };
}

/** Kubernetes label selector semantics; an invalid selector matches nothing. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const values = expression.values ?? [];
    const has = Object.hasOwn(labels, expression.key);
    switch (expression.operator) {
      case 'In':
        if (values.length === 0 || !has || !values.includes(labels[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0 || (has && values.includes(labels[expression.key]!))) return false;
        break;
      case 'Exists':
        if (values.length > 0 || !has) return false;
        break;
      case 'DoesNotExist':
        if (values.length > 0 || has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const goRegexCache = new LruMap<string, RegExp | null>(1000);

/**
 * Go's regexp.MatchString: unanchored search. RE2 syntax is close to JavaScript's for the
 * patterns namespace rules use; a leading `(?flags)` group is translated, and a pattern
 * JavaScript cannot compile matches nothing.
 */
export function goRegexMatches(pattern: string, value: string): boolean {
  let compiled = goRegexCache.get(pattern);
  if (compiled === undefined) {
    compiled = compileGoRegex(pattern);
    goRegexCache.set(pattern, compiled);
  }
  return compiled !== null && compiled.test(value);
}

function compileGoRegex(pattern: string): RegExp | null {
  const flagsGroup = /^\(\?([imsU]+)\)/.exec(pattern);
  const flags = flagsGroup?.[1] ?? '';
  // U (ungreedy) has no JavaScript equivalent: fail closed rather than match differently.
  if (flags.includes('U')) return null;
  try {
    return new RegExp(pattern.slice(flagsGroup?.[0].length ?? 0), [...new Set(flags)].join(''));
  } catch {
    return null;
  }
}
