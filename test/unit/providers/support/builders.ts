// Builders for stores and requests used by the provider tests.
import type { InjectionRequest, SecretSpec } from '../../../../src/contract/types.ts';
import type { InjectionConfig } from '../../../../src/core/types.ts';
import type { EsoStore } from '../../../../src/stores/types.ts';

export function clusterStore(
  provider: Record<string, unknown>,
  annotations?: Record<string, string>,
  name = 'shared',
): EsoStore {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: annotations ? { name, annotations } : { name },
    spec: { provider },
  };
}

export function request(secrets: readonly SecretSpec[], extra: Partial<InjectionRequest> = {}): InjectionRequest {
  return {
    secrets: [...secrets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    mountPath: '/mnt/secrets',
    initContainers: [],
    refreshInterval: '1h',
    ...extra,
  };
}

export const noConfig: InjectionConfig = { csiProviderNames: {} };
