// The annotation contract (DESIGN.md §3) as data. Pure: no I/O anywhere under src/contract.

export const ANNOTATION_PREFIX = 'hybrid-secrets.io/';

export type StoreKind = 'ClusterSecretStore' | 'SecretStore';

export interface StoreRef {
  readonly name: string;
  readonly kind: StoreKind;
}

/** One external secret the pod asked for with `secret-<name>` (+ `version-<name>`, `env-<name>`). */
export interface SecretSpec {
  /** File name under the mount path and key in the ESO-synced Secret. */
  readonly name: string;
  /** Remote key (the part before `#`). */
  readonly key: string;
  /** Remote property (the part after `#`), when given. */
  readonly property?: string;
  /** Remote version from `version-<name>`; absent means latest. */
  readonly version?: string;
  /** Env var name from `env-<name>`; absent means no env var. */
  readonly envName?: string;
}

/** A valid, fully-defaulted injection request parsed from a pod's annotations. */
export interface InjectionRequest {
  /** Sorted by name, so equal annotation sets give equal requests. */
  readonly secrets: readonly SecretSpec[];
  /** Absent when the pod named no store: the server's default store applies. */
  readonly store?: StoreRef;
  readonly mountPath: string;
  /** Containers that get the mount and env vars; absent means all containers. */
  readonly containers?: readonly string[];
  /** Init containers that also get the mount and env vars. */
  readonly initContainers: readonly string[];
  readonly refreshInterval: string;
  /** Auth role for the CSI provider; absent means the store's own role. */
  readonly role?: string;
}

/** One violated rule. `field` is the annotation key (or pod field) the user must change. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}
