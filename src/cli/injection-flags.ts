// The flags that build the InjectionConfig of `serve` and `inject`: the default store and the
// CSI provider names. Validated once; errors name the flag.
import { DEFAULT_STORE_KIND } from '../contract/parse.ts';
import { isDnsSubdomain } from '../contract/rules.ts';
import type { InjectionConfig } from '../core/types.ts';
import { SUPPORTED_BACKENDS, isValidCsiProviderName } from '../providers/index.ts';

export const INJECTION_FLAG_OPTIONS = {
  'default-store': { type: 'string' },
  'default-store-kind': { type: 'string' },
  'csi-provider': { type: 'string', multiple: true },
} as const;

export const INJECTION_FLAG_USAGE = `      --default-store <name>      store for pods that name none
      --default-store-kind <kind> ClusterSecretStore (default) or SecretStore
      --csi-provider <backend=name>
                                  CSI provider name for an ESO backend, e.g. vault=openbao (repeatable)`;

export interface InjectionFlagValues {
  readonly 'default-store'?: string;
  readonly 'default-store-kind'?: string;
  readonly 'csi-provider'?: readonly string[];
}

/** Builds the frozen InjectionConfig; throws an Error whose message starts with the flag. */
export function injectionConfigFromFlags(values: InjectionFlagValues): InjectionConfig {
  const kind = values['default-store-kind'] ?? DEFAULT_STORE_KIND;
  if (kind !== 'ClusterSecretStore' && kind !== 'SecretStore') {
    throw new Error(`--default-store-kind must be ClusterSecretStore or SecretStore, not '${kind}'`);
  }
  const storeName = values['default-store'];
  if (storeName !== undefined && !isDnsSubdomain(storeName)) throw new Error(`--default-store '${storeName}' is not a store name`);
  if (storeName === undefined && values['default-store-kind'] !== undefined) {
    throw new Error('--default-store-kind needs --default-store');
  }
  const csiProviderNames: Record<string, string> = {};
  for (const entry of values['csi-provider'] ?? []) {
    const match = /^([a-zA-Z0-9]+)=(.+)$/.exec(entry);
    if (match === null) throw new Error(`--csi-provider '${entry}' must look like <backend>=<provider name>, e.g. vault=openbao`);
    const [, backend = '', name = ''] = match;
    if (!SUPPORTED_BACKENDS.includes(backend)) {
      throw new Error(`--csi-provider '${entry}': unknown backend '${backend}'; supported: ${SUPPORTED_BACKENDS.join(', ')}`);
    }
    if (!isValidCsiProviderName(name)) throw new Error(`--csi-provider '${entry}': '${name}' is not a valid CSI provider name`);
    csiProviderNames[backend] = name;
  }
  return Object.freeze({
    csiProviderNames: Object.freeze(csiProviderNames),
    ...(storeName !== undefined && { defaultStore: Object.freeze({ name: storeName, kind }) }),
  });
}
