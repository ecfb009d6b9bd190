import type { GeneratedObjects, KubeObject, OwnerRef } from '../../../src/core/types.ts';

export function owner(name: string, uid = `uid-${name}`, kind = 'ReplicaSet'): OwnerRef {
  return { apiVersion: kind === 'Pod' ? 'v1' : 'apps/v1', kind, name, uid };
}

/** A generated pair as the core renders it. */
export function generated(options: { name?: string; namespace?: string; specHash?: string; owner?: OwnerRef } = {}): GeneratedObjects {
  const name = options.name ?? 'web-abc123';
  const namespace = options.namespace ?? 'team-a';
  const specHash = options.specHash ?? 'abc123';
  const labels = {
    'app.kubernetes.io/managed-by': 'hybrid-secrets',
    'hybrid-secrets.io/spec-hash': specHash,
    'hybrid-secrets.io/workload': 'web',
  };
  const object = (apiVersion: string, kind: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name, namespace, labels },
    spec,
  });
  return {
    name,
    namespace,
    specHash,
    workload: 'web',
    owner: options.owner,
    externalSecret: object('external-secrets.io/v1', 'ExternalSecret', {
      secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      data: [{ secretKey: 'db', remoteRef: { key: 'app/db' } }],
    }),
    secretProviderClass: object('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass', {
      provider: 'vault',
      parameters: { roleName: 'web' },
    }),
  };
}

/** The ownerReference the writer applies for `owner`. */
export function appliedRef(ref: OwnerRef): OwnerRef {
  return { ...ref, controller: false, blockOwnerDeletion: false };
}
