// Stores, pods and configuration shared by the core, render and CLI tests.
import type { InjectionConfig } from '../../src/core/types.ts';
import { MemoryStoreCatalog } from '../../src/stores/catalog.ts';
import type { EsoStore } from '../../src/stores/types.ts';

export const P = 'hybrid-secrets.io/';

function clusterStore(
  name: string,
  provider: Record<string, unknown>,
  extra: Partial<EsoStore['spec']> = {},
  annotations?: Record<string, string>,
): EsoStore {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name, ...(annotations && { annotations }) },
    spec: { provider, ...extra },
  };
}

/** One store per supported backend, plus stores for access and mapping failures. */
export const stores = {
  vault: clusterStore('vault', {
    vault: {
      server: 'https://vault.example:8200',
      path: 'secret',
      version: 'v2',
      auth: { kubernetes: { mountPath: 'kubernetes', role: 'apps' } },
    },
  }),
  aws: clusterStore('aws', {
    aws: { service: 'SecretsManager', region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'app' } } } },
  }),
  azurekv: clusterStore('azurekv', {
    azurekv: { vaultUrl: 'https://team-kv.vault.azure.net', tenantId: '00000000-0000-0000-0000-000000000001', authType: 'WorkloadIdentity', serviceAccountRef: { name: 'app' } },
  }, {}, { 'hybrid-secrets.io/azure-client-id': '00000000-0000-0000-0000-000000000002' }),
  gcpsm: clusterStore('gcpsm', { gcpsm: { projectID: 'team-project' } }),
  fake: clusterStore('fake', { fake: { data: [] } }),
  restricted: clusterStore(
    'restricted',
    { vault: { server: 'https://vault.example:8200', path: 'secret', auth: { kubernetes: { role: 'apps' } } } },
    { conditions: [{ namespaceSelector: { matchLabels: { tier: 'prod' } } }, { namespaceRegexes: ['^payments-'] }] },
  ),
};

export const teamStore: EsoStore = {
  apiVersion: 'external-secrets.io/v1',
  kind: 'SecretStore',
  metadata: { name: 'team-vault', namespace: 'team-a' },
  spec: { provider: { vault: { server: 'https://vault.example:8200', path: 'kv', version: 'v1', auth: { kubernetes: { role: 'team-a' } } } } },
};

export const catalog = new MemoryStoreCatalog({
  clusterStores: Object.values(stores),
  namespacedStores: [teamStore],
  namespaces: new Map([
    ['team-a', { tier: 'dev' }],
    ['prod', { tier: 'prod' }],
  ]),
});

export const config: InjectionConfig = { csiProviderNames: {}, defaultStore: { name: 'vault', kind: 'ClusterSecretStore' } };

export function annotations(extra: Record<string, string> = {}): Record<string, string> {
  return { [`${P}inject`]: 'true', [`${P}secret-db`]: 'app/db#password', ...extra };
}

/** A pod with nothing but one container and the given annotations. */
export function minimalPod(extra: Record<string, string> = {}): { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return { metadata: { name: 'web', annotations: annotations(extra) }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
}

/** A Deployment's pod: owned by a ReplicaSet, with volumes, mounts, env and init containers. */
export function richPod(extra: Record<string, string> = {}): { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return {
    metadata: {
      generateName: 'web-5d8f7c9b4-',
      namespace: 'ignored-namespace',
      labels: { app: 'web', 'pod-template-hash': '5d8f7c9b4' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z', ...annotations(extra) },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f7c9b4', uid: '0b6c1c2e-5f7d-4c55-9e0a-1f2d3c4b5a69', controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      volumes: [{ name: 'cache', emptyDir: {} }],
      initContainers: [{ name: 'migrate', image: 'migrate:1', env: [{ name: 'MODE', value: 'up' }] }],
      containers: [
        { name: 'app', image: 'app:1', env: [{ name: 'PORT', value: '8080' }], volumeMounts: [{ name: 'cache', mountPath: '/cache' }] },
        { name: 'proxy', image: 'proxy:1' },
      ],
    },
  };
}
