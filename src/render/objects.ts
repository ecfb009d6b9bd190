// ExternalSecret and SecretProviderClass documents (DESIGN.md §4). Pure.
import type { InjectionRequest, StoreRef } from '../contract/types.ts';
import type { OwnerRef, KubeObject } from '../core/types.ts';
import type { CsiProviderSpec } from '../providers/types.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'hybrid-secrets';
export const SPEC_HASH_LABEL = 'hybrid-secrets.io/spec-hash';
export const WORKLOAD_LABEL = 'hybrid-secrets.io/workload';

export const EXTERNAL_SECRET_API_VERSION = 'external-secrets.io/v1';
export const SECRET_PROVIDER_CLASS_API_VERSION = 'secrets-store.csi.x-k8s.io/v1';

/** What the ExternalSecret fetches: its spec without the target (whose name derives from the hash). */
export interface ExternalSecretData {
  readonly secretStoreRef: StoreRef;
  readonly refreshInterval: string;
  readonly data: readonly {
    readonly secretKey: string;
    readonly remoteRef: { readonly key: string; readonly property?: string; readonly version?: string };
  }[];
}

export function externalSecretData(request: InjectionRequest, store: StoreRef): ExternalSecretData {
  return {
    secretStoreRef: { name: store.name, kind: store.kind },
    refreshInterval: request.refreshInterval,
    data: request.secrets.map((secret) => ({
      secretKey: secret.name,
      remoteRef: {
        key: secret.key,
        ...(secret.property !== undefined && { property: secret.property }),
        ...(secret.version !== undefined && { version: secret.version }),
      },
    })),
  };
}

export interface ObjectIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly specHash: string;
  /** Already a valid label value. */
  readonly workloadLabel: string;
  readonly owner?: OwnerRef;
}

function metadata(identity: ObjectIdentity): KubeObject['metadata'] {
  return {
    name: identity.name,
    namespace: identity.namespace,
    labels: {
      [MANAGED_BY_LABEL]: MANAGED_BY,
      [SPEC_HASH_LABEL]: identity.specHash,
      [WORKLOAD_LABEL]: identity.workloadLabel,
    },
    // Not a controller reference: several ReplicaSets of one Deployment may share the objects.
    ...(identity.owner !== undefined && {
      ownerReferences: [{ ...identity.owner, controller: false, blockOwnerDeletion: false }],
    }),
  };
}

export function renderExternalSecret(identity: ObjectIdentity, data: ExternalSecretData): KubeObject {
  return {
    apiVersion: EXTERNAL_SECRET_API_VERSION,
    kind: 'ExternalSecret',
    metadata: metadata(identity),
    spec: {
      secretStoreRef: data.secretStoreRef,
      refreshInterval: data.refreshInterval,
      // ESO owns the synced Secret, so it goes away with the ExternalSecret.
      target: { name: identity.name, creationPolicy: 'Owner' },
      data: data.data,
    },
  };
}

export function renderSecretProviderClass(identity: ObjectIdentity, csi: CsiProviderSpec): KubeObject {
  return {
    apiVersion: SECRET_PROVIDER_CLASS_API_VERSION,
    kind: 'SecretProviderClass',
    metadata: metadata(identity),
    spec: { provider: csi.provider, parameters: { ...csi.parameters } },
  };
}
