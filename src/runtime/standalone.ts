// The runtime for trying the webhook without a cluster: stores come from a YAML file and the
// generated objects are logged instead of created. Reviews are answered exactly as in a
// cluster, so the patch and the denials can be checked locally.
import { LruMap } from '../core/lru.ts';
import type { GeneratedObjectWriter, GeneratedObjects, Runtime } from '../core/types.ts';
import { loadStoreCatalogFile } from '../stores/catalog.ts';
import type { StoreCatalog } from '../stores/types.ts';

export interface StandaloneLog {
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** Objects whose info line was written; a cluster applies each spec once, too. */
const REPORTED_MAX = 1024;

/**
 * Logs what a cluster runtime would apply: names at info, once per object name and spec hash
 * (as a cluster writes each once, not once per pod), and the rendered objects at debug.
 */
export class LoggingObjectWriter implements GeneratedObjectWriter {
  readonly #log: StandaloneLog;
  /** `namespace/name` → spec hash last reported. */
  readonly #reported = new LruMap<string, string>(REPORTED_MAX);

  constructor(log: StandaloneLog) {
    this.#log = log;
  }

  isCurrent(objects: GeneratedObjects): boolean {
    return this.#reported.get(`${objects.namespace}/${objects.name}`) === objects.specHash;
  }

  async ensure(objects: GeneratedObjects, options: { readonly signal: AbortSignal }): Promise<void> {
    options.signal.throwIfAborted();
    if (this.isCurrent(objects)) return;
    const where = `${objects.namespace}/${objects.name}`;
    this.#reported.set(where, objects.specHash);
    this.#log.info(
      { externalSecret: where, secretProviderClass: where, specHash: objects.specHash, workload: objects.workload },
      'standalone: not creating the generated objects (no cluster)',
    );
    this.#log.debug(
      { externalSecret: objects.externalSecret, secretProviderClass: objects.secretProviderClass },
      'standalone: generated objects',
    );
  }
}

export function createStandaloneRuntime(options: { readonly catalog: StoreCatalog; readonly log: StandaloneLog }): Runtime {
  return {
    catalog: options.catalog,
    writer: new LoggingObjectWriter(options.log),
    isReady: () => true,
    stop: async () => {},
  };
}

/** Loads the stores file (every problem reported, naming file and document) and builds the runtime. */
export async function startStandaloneRuntime(options: {
  readonly storesFile: string;
  /** Namespace of SecretStore documents that name none. */
  readonly defaultNamespace: string;
  readonly log: StandaloneLog;
}): Promise<Runtime> {
  const catalog = await loadStoreCatalogFile(options.storesFile, { defaultNamespace: options.defaultNamespace });
  return createStandaloneRuntime({ catalog, log: options.log });
}
