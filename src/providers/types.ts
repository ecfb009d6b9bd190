import type { InjectionRequest, Problem } from '../contract/types.ts';
import type { EsoStore } from '../stores/types.ts';

/** What goes into a SecretProviderClass spec: the CSI provider and its string parameters. */
export interface CsiProviderSpec {
  readonly provider: string;
  /** SecretProviderClass parameters are map[string]string: booleans quoted, lists as YAML. */
  readonly parameters: Readonly<Record<string, string>>;
}

export type CsiProviderResult =
  | { readonly ok: true; readonly spec: CsiProviderSpec }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * One backend (ESO `spec.provider.<key>`) mapped to its CSI provider. Pure.
 * `providerName` is the configured CSI provider name for this backend.
 */
export interface BackendMapping {
  /** The ESO provider key this module handles: `vault`, `aws`, `azurekv`, `gcpsm`. */
  readonly backend: string;
  /** The CSI provider's upstream name, used unless configuration overrides it. */
  readonly defaultProviderName: string;
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult;
}
