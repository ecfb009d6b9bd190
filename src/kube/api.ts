// The few Kubernetes API calls hybrid-secrets makes, behind small interfaces (fakes in tests),
// and their @kubernetes/client-node implementation.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  V1MicroTime,
  makeInformer,
  type ConfigurationOptions,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type ObservableMiddleware,
  type RequestContext,
  type V1Lease,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import type { KubeObject } from '../core/types.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../render/objects.ts';
import type { InformerSource } from './cache.ts';
import { KubeApiError, isNotFound, toKubeApiError } from './errors.ts';

export const FIELD_MANAGER = 'hybrid-secrets';

export interface CustomResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** The custom resources hybrid-secrets reads or writes, by kind. */
export const RESOURCES = {
  ExternalSecret: { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' },
  SecretStore: { group: 'external-secrets.io', version: 'v1', plural: 'secretstores' },
  ClusterSecretStore: { group: 'external-secrets.io', version: 'v1', plural: 'clustersecretstores' },
  SecretProviderClass: { group: 'secrets-store.csi.x-k8s.io', version: 'v1', plural: 'secretproviderclasses' },
} as const satisfies Record<string, CustomResource>;

export type GeneratedKind = 'ExternalSecret' | 'SecretProviderClass';

export interface ObjectRef {
  readonly kind: GeneratedKind;
  readonly namespace: string;
  readonly name: string;
}

/** Writes to generated objects and events. Every call rejects with a KubeApiError. */
export interface KubeWriteApi {
  /** Server-side apply (field manager `hybrid-secrets`, forced); resolves with the stored object. */
  apply(object: KubeObject, signal: AbortSignal): Promise<KubernetesObject>;
  /** Deletes only the exact object seen (uid + resourceVersion preconditions); 404 is success. */
  delete(
    target: ObjectRef,
    preconditions: { readonly uid: string; readonly resourceVersion: string },
    signal: AbortSignal,
  ): Promise<void>;
  createEvent(event: CoreV1Event, signal: AbortSignal): Promise<void>;
}

/** The fields of a coordination.k8s.io/v1 Lease the leader elector reads and writes. */
export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTimeMs: number;
  readonly renewTimeMs: number;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** One Lease object; `replace` fails with 409 when `resourceVersion` is stale. */
export interface LeaseApi {
  read(signal: AbortSignal): Promise<StoredLease | undefined>;
  create(record: LeaseRecord, signal: AbortSignal): Promise<StoredLease>;
  replace(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<StoredLease>;
}

/** Per-request options: the AbortSignal and, for patches, the content type. */
export function requestOptions(signal: AbortSignal, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(context: RequestContext) {
      context.setSignal(signal);
      if (contentType !== undefined) context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** Runs one client-node request; failures become KubeApiErrors, prefixed with `what` when given. */
export async function call<T>(request: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const apiError = toKubeApiError(error);
    if (what !== undefined) apiError.message = `${what}: ${apiError.message}`;
    throw apiError;
  }
}

export class ClientNodeWriteApi implements KubeWriteApi {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async apply(object: KubeObject, signal: AbortSignal): Promise<KubernetesObject> {
    const resource = resourceOf(object.kind);
    const stored: unknown = await call(() =>
      this.custom.patchNamespacedCustomObject(
        {
          ...resource,
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          body: object,
          fieldManager: FIELD_MANAGER,
          // We are the only author of these generated objects: forcing takes back any field
          // someone edited by hand, instead of failing every pod admission with a conflict.
          force: true,
        },
        // JSON is valid YAML, so the JSON body goes out as an apply patch.
        requestOptions(signal, 'application/apply-patch+yaml'),
      ),
    );
    return stored as KubernetesObject;
  }

  async delete(
    target: ObjectRef,
    preconditions: { readonly uid: string; readonly resourceVersion: string },
    signal: AbortSignal,
  ): Promise<void> {
    try {
      await call(() =>
        this.custom.deleteNamespacedCustomObject(
          {
            ...resourceOf(target.kind),
            namespace: target.namespace,
            name: target.name,
            propagationPolicy: 'Background',
            body: { preconditions },
          },
          requestOptions(signal),
        ),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async createEvent(event: CoreV1Event, signal: AbortSignal): Promise<void> {
    const namespace = event.metadata.namespace ?? event.involvedObject.namespace ?? 'default';
    await call(() => this.core.createNamespacedEvent({ namespace, body: event }, requestOptions(signal)));
  }
}

export class ClientNodeLeaseApi implements LeaseApi {
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;

  constructor(kubeConfig: KubeConfig, lease: { readonly namespace: string; readonly name: string }) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.namespace = lease.namespace;
    this.name = lease.name;
  }

  async read(signal: AbortSignal): Promise<StoredLease | undefined> {
    try {
      const lease = await call(() =>
        this.api.readNamespacedLease({ namespace: this.namespace, name: this.name }, requestOptions(signal)),
      );
      return fromLease(lease);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord, signal: AbortSignal): Promise<StoredLease> {
    const body = this.toLease(record);
    const lease = await call(() =>
      this.api.createNamespacedLease({ namespace: this.namespace, body }, requestOptions(signal)),
    );
    return fromLease(lease);
  }

  async replace(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<StoredLease> {
    const body = this.toLease(record, resourceVersion);
    const lease = await call(() =>
      this.api.replaceNamespacedLease(
        { namespace: this.namespace, name: this.name, body },
        requestOptions(signal),
      ),
    );
    return fromLease(lease);
  }

  private toLease(record: LeaseRecord, resourceVersion?: string): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        // V1MicroTime serialises with the microsecond precision the API server expects.
        acquireTime: new V1MicroTime(record.acquireTimeMs),
        renewTime: new V1MicroTime(record.renewTimeMs),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}

function fromLease(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTimeMs: spec.acquireTime === undefined ? 0 : new Date(spec.acquireTime).getTime(),
      renewTimeMs: spec.renewTime === undefined ? 0 : new Date(spec.renewTime).getTime(),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}

/** The resource of a generated object's kind; any other kind is refused. */
export function resourceOf(kind: string): CustomResource {
  if (kind === 'ExternalSecret' || kind === 'SecretProviderClass') return RESOURCES[kind];
  throw new KubeApiError(`hybrid-secrets does not write objects of kind ${kind}`);
}

/** Informer sources over the whole cluster, one per watched resource. */
export interface InformerSources {
  readonly clusterSecretStores: () => InformerSource<KubernetesObject>;
  readonly secretStores: () => InformerSource<KubernetesObject>;
  readonly namespaces: () => InformerSource<V1Namespace>;
  /** Only objects labelled `app.kubernetes.io/managed-by=hybrid-secrets`. */
  readonly externalSecrets: () => InformerSource<KubernetesObject>;
  readonly secretProviderClasses: () => InformerSource<KubernetesObject>;
  readonly pods: () => InformerSource<V1Pod>;
}

/** A list that hangs is abandoned after this long (client-node sets no timeout of its own). */
const LIST_TIMEOUT_MS = 60_000;

export function clientNodeInformerSources(kubeConfig: KubeConfig): InformerSources {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const listOptions = () => requestOptions(AbortSignal.timeout(LIST_TIMEOUT_MS));
  const generated = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  const customSource = (resource: CustomResource, labelSelector?: string) => () =>
    makeInformer<KubernetesObject>(
      kubeConfig,
      `/apis/${resource.group}/${resource.version}/${resource.plural}`,
      () => custom.listClusterCustomObject({ ...resource, labelSelector }, listOptions()),
      labelSelector,
    );
  return {
    clusterSecretStores: customSource(RESOURCES.ClusterSecretStore),
    secretStores: customSource(RESOURCES.SecretStore),
    externalSecrets: customSource(RESOURCES.ExternalSecret, generated),
    secretProviderClasses: customSource(RESOURCES.SecretProviderClass, generated),
    namespaces: () => makeInformer<V1Namespace>(kubeConfig, '/api/v1/namespaces', () => core.listNamespace({}, listOptions())),
    pods: () => makeInformer<V1Pod>(kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces({}, listOptions())),
  };
}
