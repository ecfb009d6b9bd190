// ESO `azurekv` stores → the Azure Key Vault CSI provider. Pure.
//
// Parameters: `keyvaultName` (the provider builds https://<name>.<cloud suffix>/ itself),
// `tenantID`, `cloudName` off the public cloud, the identity (`clientID` for workload identity, or
// `useVMManagedIdentity` + `userAssignedIdentityID`), and `objects`: YAML `array:` of YAML strings,
// each {objectName, objectType: secret, objectVersion?, objectAlias}. The provider cannot read a
// property out of a JSON secret, so `<key>#<property>` is refused.
import { ANNOTATION_PREFIX } from '../contract/types.ts';
import type { InjectionRequest, Problem, SecretSpec } from '../contract/types.ts';
import type { EsoStore } from '../stores/types.ts';
import {
  failed,
  optionalString,
  recordAt,
  requiredString,
  secretField,
  storeAnnotation,
  storeProblem,
  versionField,
} from './shared.ts';
import type { BackendMapping, CsiProviderResult } from './types.ts';
import { yamlListOfDocuments, yamlMap } from './yaml-parameter.ts';

/** Store annotation: the client id the pods' workload identity federates to. */
export const AZURE_CLIENT_ID_ANNOTATION = `${ANNOTATION_PREFIX}azure-client-id`;

/** ESO `environmentType` → the provider's `cloudName` and that cloud's Key Vault DNS suffix. */
const CLOUDS: Readonly<Record<string, { readonly cloudName?: string; readonly vaultSuffix: string }>> = {
  PublicCloud: { vaultSuffix: 'vault.azure.net' },
  USGovernmentCloud: { cloudName: 'AzureUSGovernmentCloud', vaultSuffix: 'vault.usgovcloudapi.net' },
  ChinaCloud: { cloudName: 'AzureChinaCloud', vaultSuffix: 'vault.azure.cn' },
  GermanCloud: { cloudName: 'AzureGermanCloud', vaultSuffix: 'vault.microsoftazure.de' },
};

// Key Vault naming rules: vault names 3–24, object names 1–127 of letters, digits and hyphens.
const VAULT_NAME = /^[A-Za-z0-9-]{3,24}$/;
const OBJECT_NAME = /^[A-Za-z0-9-]{1,127}$/;
const OBJECT_VERSION = /^[A-Za-z0-9]{1,64}$/;

type AzureObject = {
  readonly objectName: string;
  readonly objectType: 'secret';
  readonly objectVersion?: string;
  readonly objectAlias: string;
};

/** The vault name from ESO's `vaultUrl`, when its host is `<name>.<the cloud's suffix>`. */
export function keyVaultName(vaultUrl: string, vaultSuffix: string): string | undefined {
  let host: string;
  try {
    const url = new URL(vaultUrl);
    if (url.protocol !== 'https:') return undefined;
    host = url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const suffix = `.${vaultSuffix}`;
  if (!host.endsWith(suffix)) return undefined;
  const name = host.slice(0, -suffix.length);
  return VAULT_NAME.test(name) ? name : undefined;
}

/**
 * ESO reads `secret/<name>` or a bare `<name>` as a secret; `cert/` and `key/` return other
 * encodings than the provider writes, so they are refused rather than mounted differently.
 */
function toObject(secret: SecretSpec, problems: Problem[]): AzureObject | undefined {
  const slash = secret.key.indexOf('/');
  const objectType = slash === -1 ? 'secret' : secret.key.slice(0, slash);
  const objectName = slash === -1 ? secret.key : secret.key.slice(slash + 1);
  let valid = true;
  if (objectType !== 'secret') {
    problems.push({
      field: secretField(secret.name),
      message: `only Key Vault secrets can be mounted ("${objectType}/" objects are encoded differently by ESO and the CSI provider)`,
    });
    valid = false;
  } else if (!OBJECT_NAME.test(objectName)) {
    problems.push({
      field: secretField(secret.name),
      message: `"${objectName}" is not a Key Vault secret name (1-127 letters, digits and hyphens)`,
    });
    valid = false;
  }
  if (secret.property !== undefined) {
    problems.push({
      field: secretField(secret.name),
      message: `the Azure Key Vault CSI provider cannot extract property "${secret.property}"; remove "#${secret.property}" or store the value as its own secret`,
    });
    valid = false;
  }
  if (secret.version !== undefined && !OBJECT_VERSION.test(secret.version)) {
    problems.push({ field: versionField(secret.name), message: `"${secret.version}" is not a Key Vault version id` });
    valid = false;
  }
  if (!valid) return undefined;
  return secret.version === undefined
    ? { objectName, objectType: 'secret', objectAlias: secret.name }
    : { objectName, objectType: 'secret', objectVersion: secret.version, objectAlias: secret.name };
}

/** `array:` of YAML documents, each a block literal, as the provider's docs write it. */
function azureObjectsParameter(objects: readonly AzureObject[]): string {
  return yamlListOfDocuments(
    'array',
    objects.map((object) => yamlMap(object)),
  );
}

interface Identity {
  readonly parameters: Readonly<Record<string, string>>;
}

function identity(store: EsoStore, config: Readonly<Record<string, unknown>> | undefined, problems: Problem[]): Identity {
  const clientId = storeAnnotation(store, AZURE_CLIENT_ID_ANNOTATION);
  if (clientId !== undefined) {
    if (!/^[0-9A-Fa-f-]{36}$/.test(clientId)) {
      problems.push(storeProblem(store, `annotation ${AZURE_CLIENT_ID_ANNOTATION} must be a client id (a GUID)`));
    }
    return { parameters: { clientID: clientId } };
  }
  const authType = optionalString(config, 'authType', 'azurekv.authType', store, problems) ?? 'ServicePrincipal';
  if (authType === 'ManagedIdentity') {
    const identityId = optionalString(config, 'identityId', 'azurekv.identityId', store, problems);
    return {
      parameters:
        identityId === undefined
          ? { useVMManagedIdentity: 'true' }
          : { useVMManagedIdentity: 'true', userAssignedIdentityID: identityId },
    };
  }
  const why =
    authType === 'WorkloadIdentity'
      ? 'its workload identity client id lives on a service account or Secret the mapping cannot read'
      : `the CSI provider cannot use ESO's ${authType} credentials`;
  problems.push(
    storeProblem(store, `${why}; annotate the store with ${AZURE_CLIENT_ID_ANNOTATION}: <client id> for workload identity`),
  );
  return { parameters: {} };
}

export const azureKeyVaultMapping: BackendMapping = {
  backend: 'azurekv',
  defaultProviderName: 'azure',
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult {
    const problems: Problem[] = [];
    const config = recordAt(store.spec.provider, 'azurekv');
    const environment = optionalString(config, 'environmentType', 'azurekv.environmentType', store, problems) ?? 'PublicCloud';
    const cloud = CLOUDS[environment];
    if (!cloud) {
      problems.push(
        storeProblem(
          store,
          `spec.provider.azurekv.environmentType "${environment}" needs a cloud environment file on the CSI provider's nodes; supported: ${Object.keys(CLOUDS).join(', ')}`,
        ),
      );
    }
    const vaultUrl = requiredString(config, 'vaultUrl', 'azurekv.vaultUrl', store, problems);
    const vaultName = vaultUrl === undefined || !cloud ? undefined : keyVaultName(vaultUrl, cloud.vaultSuffix);
    if (vaultUrl !== undefined && cloud && vaultName === undefined) {
      problems.push(
        storeProblem(store, `spec.provider.azurekv.vaultUrl "${vaultUrl}" is not https://<vault name>.${cloud.vaultSuffix}/`),
      );
    }
    const tenantId = requiredString(config, 'tenantId', 'azurekv.tenantId', store, problems);
    const auth = identity(store, config, problems);
    const objects = request.secrets.flatMap((secret) => toObject(secret, problems) ?? []);
    if (problems.length > 0 || vaultName === undefined || tenantId === undefined) return failed(problems);

    const parameters: Record<string, string> = { keyvaultName: vaultName, tenantID: tenantId };
    if (cloud?.cloudName !== undefined) parameters.cloudName = cloud.cloudName;
    Object.assign(parameters, auth.parameters);
    parameters.objects = azureObjectsParameter(objects);
    return { ok: true, spec: { provider: providerName, parameters } };
  },
};
