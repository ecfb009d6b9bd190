// StoreCatalog backed by informer caches: every lookup is a synchronous map read, so an
// admission review never waits on the API server.
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import type { EsoStore, StoreCatalog } from '../stores/types.ts';
import type { InformerCache } from './cache.ts';

export interface StoreCaches {
  readonly clusterSecretStores: InformerCache<KubernetesObject>;
  readonly secretStores: InformerCache<KubernetesObject>;
  readonly namespaces: InformerCache<V1Namespace>;
}

export class InformerStoreCatalog implements StoreCatalog {
  private readonly caches: StoreCaches;
  #generation = 0;

  constructor(caches: StoreCaches) {
    this.caches = caches;
    // Every event (add, update, delete, re-list) comes after the cache changed.
    const bump = (): void => {
      this.#generation += 1;
    };
    caches.clusterSecretStores.onEvent(bump);
    caches.secretStores.onEvent(bump);
    caches.namespaces.onEvent(bump);
  }

  get generation(): number {
    return this.#generation;
  }

  clusterStore(name: string): EsoStore | undefined {
    return asStore(this.caches.clusterSecretStores.get(name), 'ClusterSecretStore');
  }

  namespacedStore(namespace: string, name: string): EsoStore | undefined {
    return asStore(this.caches.secretStores.get(name, namespace), 'SecretStore');
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    const found = this.caches.namespaces.get(namespace);
    if (found === undefined) return undefined;
    return found.metadata?.labels ?? {};
  }
}

/**
 * The watch delivers whatever the CRD holds; a store without a `spec.provider` object cannot be
 * used, and treating it as missing gives the same clear denial as a store that does not exist.
 */
function asStore(object: KubernetesObject | undefined, kind: EsoStore['kind']): EsoStore | undefined {
  if (object === undefined || object.metadata?.name === undefined) return undefined;
  const spec = (object as { spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null) return undefined;
  const provider = (spec as { provider?: unknown }).provider;
  if (typeof provider !== 'object' || provider === null) return undefined;
  return { ...(object as unknown as EsoStore), kind };
}
