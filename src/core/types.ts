// The seams between the pure core and the side-effecting shell (webhook, CLI, kube).
import type { Operation } from 'fast-json-patch';
import type { Problem, StoreRef } from '../contract/types.ts';
import type { StoreCatalog } from '../stores/types.ts';

/** Reference from a generated object to the pod's controller (ReplicaSet, StatefulSet, …). */
export interface OwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  /** Set (false) on generated objects: they are shared, so no single controller owns them. */
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** A Kubernetes object rendered by the core, ready to be applied (plain JSON). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly OwnerRef[];
  };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** The ExternalSecret + SecretProviderClass pair one pod (template) needs. */
export interface GeneratedObjects {
  /** Shared name of the ExternalSecret, its target Secret and the SecretProviderClass. */
  readonly name: string;
  readonly namespace: string;
  /** Short hash of the rendered specs; also carried as a label. */
  readonly specHash: string;
  /** Workload the objects belong to (Deployment, StatefulSet, … or bare pod name). */
  readonly workload: string;
  /** The pod's controller, when it has one; absent for bare pods and offline templates. */
  readonly owner?: OwnerRef;
  readonly externalSecret: KubeObject;
  readonly secretProviderClass: KubeObject;
}

/** What the core decided for one pod (or pod template). */
export type InjectionPlan =
  | { readonly action: 'skip'; readonly reason: 'not-selected' | 'already-injected' }
  | {
      readonly action: 'deny';
      readonly problems: readonly Problem[];
      readonly warnings: readonly string[];
    }
  | {
      readonly action: 'inject';
      /** RFC 6902 operations against the pod (or pod template) as given. */
      readonly patch: readonly Operation[];
      readonly objects: GeneratedObjects;
      readonly warnings: readonly string[];
      /** The store the request resolved to (after the server default applied). */
      readonly store: StoreRef;
    };

/**
 * Makes sure the generated objects exist before the review is answered. The Kubernetes
 * implementation applies them server-side; the standalone one only logs them.
 * Rejects with an Error whose message is fit for a denial (it names the object and the cause).
 */
export interface GeneratedObjectWriter {
  /**
   * True when the objects already exist as described, so ensure would write nothing. Reads
   * caches only (synchronous): the hot path of a review skips ensure and its deadline with it.
   */
  isCurrent(objects: GeneratedObjects): boolean;
  ensure(objects: GeneratedObjects, options: { readonly signal: AbortSignal }): Promise<void>;
}

/** Server-wide settings the core needs; validated once at start-up and frozen. */
export interface InjectionConfig {
  /** Store used when a pod sets no `store` annotation; absent means `store` is required. */
  readonly defaultStore?: StoreRef;
  /**
   * CSI provider name per ESO backend key (`vault`, `aws`, `azurekv`, `gcpsm`). Defaults to the
   * upstream names; OpenBao clusters map `vault` to their OpenBao provider's name.
   */
  readonly csiProviderNames: Readonly<Record<string, string>>;
}

/**
 * The one pure entry point, shared by the webhook, `inject` and the reconciler:
 *   planInjection(target, stores, config): InjectionPlan
 * where target is { pod (a Pod or a pod template: metadata + spec), namespace, workload? }.
 * Lives in src/core/plan.ts.
 */
export interface InjectionTarget {
  /** A Pod, or a workload's pod template (`metadata` + `spec`). */
  readonly pod: { readonly metadata?: unknown; readonly spec?: unknown };
  /** From `request.namespace` (never from the object) or the manifest / `--namespace`. */
  readonly namespace: string;
  /** Workload name when known from the manifest (offline inject); else derived from the pod. */
  readonly workload?: string;
}

/**
 * Where stores come from and where generated objects go: a cluster (informer caches +
 * server-side apply) or standalone (a stores file + a writer that only logs).
 * `serve` builds one and hands it to the admission handler.
 */
export interface Runtime {
  readonly catalog: StoreCatalog;
  readonly writer: GeneratedObjectWriter;
  /** True once everything the handler reads is loaded (caches synced). */
  isReady(): boolean;
  stop(): Promise<void>;
}
