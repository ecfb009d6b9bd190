import type { StoreKind } from '../contract/types.ts';

/**
 * An ESO SecretStore or ClusterSecretStore as the API server (or a YAML file) holds it.
 * Only the fields hybrid-secrets reads are typed; the rest is kept as-is.
 */
export interface EsoStore {
  readonly apiVersion?: string;
  readonly kind: StoreKind;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly labels?: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly spec: {
    /** Exactly one key names the backend: vault, aws, azurekv, gcpsm, fake, kubernetes, … */
    readonly provider: Readonly<Record<string, unknown>>;
    /** ClusterSecretStore only: who may use the store (OR-ed; none means everyone). */
    readonly conditions?: readonly StoreCondition[];
  };
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

export interface StoreCondition {
  readonly namespaceSelector?: LabelSelector;
  readonly namespaces?: readonly string[];
  readonly namespaceRegexes?: readonly string[];
}

/**
 * Read access to stores and namespace labels. Implemented by a file-backed catalog (offline
 * `inject`, standalone `serve`) and by the informer caches (in a cluster). Synchronous on purpose:
 * a review never waits on the API server for a lookup.
 */
export interface StoreCatalog {
  clusterStore(name: string): EsoStore | undefined;
  namespacedStore(namespace: string, name: string): EsoStore | undefined;
  /** Labels of a namespace; undefined when the namespace is unknown. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /**
   * Changes whenever any lookup above could answer differently (a store or namespace added,
   * changed or removed). Planning memoises what it derives from the catalog for one generation;
   * a catalog without it is read afresh for every pod.
   */
  readonly generation?: number;
}
