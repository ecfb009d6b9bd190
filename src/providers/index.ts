// ESO store backend → CSI provider + SecretProviderClass parameters (DESIGN.md §5). Pure.
import { ANNOTATION_PREFIX } from '../contract/types.ts';
import type { InjectionRequest } from '../contract/types.ts';
import type { InjectionConfig } from '../core/types.ts';
import type { EsoStore } from '../stores/types.ts';
import { failed, storeAnnotation, storeProblem } from './shared.ts';
import type { BackendMapping, CsiProviderResult } from './types.ts';
import { awsMapping } from './aws.ts';
import { azureKeyVaultMapping } from './azurekv.ts';
import { gcpSecretManagerMapping } from './gcpsm.ts';
import { openBaoMapping, vaultMapping } from './vault.ts';

export type { BackendMapping, CsiProviderResult, CsiProviderSpec } from './types.ts';

/** Store annotation naming the CSI provider for this one store; wins over configuration. */
export const CSI_PROVIDER_ANNOTATION = `${ANNOTATION_PREFIX}csi-provider`;

const MAPPINGS: readonly BackendMapping[] = [
  vaultMapping,
  awsMapping,
  azureKeyVaultMapping,
  gcpSecretManagerMapping,
  openBaoMapping,
];

const MAPPINGS_BY_BACKEND: ReadonlyMap<string, BackendMapping> = new Map(MAPPINGS.map((m) => [m.backend, m]));

/** The ESO backends hybrid-secrets can map, in a stable order (for messages and docs). */
export const SUPPORTED_BACKENDS: readonly string[] = Object.freeze(MAPPINGS.map((m) => m.backend));

/** Upstream CSI provider name per ESO backend key, used unless configuration overrides it. */
export const DEFAULT_CSI_PROVIDER_NAMES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(MAPPINGS.map((m) => [m.backend, m.defaultProviderName])),
);

/**
 * The driver reaches a provider through the socket `<name>.sock` and refuses names outside
 * this pattern (its own check, plus non-empty).
 */
const PROVIDER_NAME = /^[A-Za-z0-9_-]{1,30}$/;

export function isValidCsiProviderName(name: string): boolean {
  return PROVIDER_NAME.test(name);
}

/**
 * Maps a store and the secrets a pod asked for to the SecretProviderClass `provider` and
 * `parameters`. Every problem is collected; none throws.
 */
export function mapToCsi(store: EsoStore, request: InjectionRequest, config: InjectionConfig): CsiProviderResult {
  const provider: unknown = store.spec?.provider;
  const backends = provider !== null && typeof provider === 'object' ? Object.keys(provider) : [];
  if (backends.length !== 1) {
    const found = backends.length === 0 ? 'none' : backends.map((b) => `"${b}"`).join(', ');
    return failed([
      storeProblem(store, `spec.provider must name exactly one backend, found ${found}`),
    ]);
  }
  const backend = backends[0] as string;
  const mapping = MAPPINGS_BY_BACKEND.get(backend);
  if (!mapping) {
    return failed([
      storeProblem(
        store,
        `its backend "${backend}" has no Secrets Store CSI provider mapping; ` +
          `supported backends: ${SUPPORTED_BACKENDS.join(', ')}`,
      ),
    ]);
  }

  const annotated = storeAnnotation(store, CSI_PROVIDER_ANNOTATION);
  const providerName = annotated ?? config.csiProviderNames[backend] ?? mapping.defaultProviderName;
  if (!isValidCsiProviderName(providerName)) {
    const source =
      annotated !== undefined
        ? `its annotation ${CSI_PROVIDER_ANNOTATION}`
        : `the CSI provider name configured for backend "${backend}"`;
    return failed([
      storeProblem(
        store,
        `${source} is "${providerName}", not a CSI provider name (1-30 letters, digits, "-" or "_")`,
      ),
    ]);
  }
  return mapping.toCsi(store, request, providerName);
}
