// ESO `vault` and `openBao` stores → the Vault / OpenBao CSI provider. Pure.
//
// Both CSI providers read the same parameters (OpenBao's also accepts `vault*` names):
// vaultAddress, vaultNamespace, vaultAuthMountPath, roleName and `objects`, a YAML list of
// {objectName, secretPath, secretKey}. They log in with the pod's service account token at
// `auth/<vaultAuthMountPath>/login`, so only the store's Kubernetes (or JWT) auth settings carry
// over; other ESO auth methods need `hybrid-secrets.io/role`.
import type { InjectionRequest, Problem, SecretSpec } from '../contract/types.ts';
import type { EsoStore } from '../stores/types.ts';
import { ROLE_ANNOTATION } from '../contract/parse.ts';
import {
  describeStore,
  failed,
  optionalString,
  recordAt,
  requiredString,
  secretField,
  storeProblem,
  versionField,
} from './shared.ts';
import type { BackendMapping, CsiProviderResult } from './types.ts';
import { yamlList } from './yaml-parameter.ts';

type KvVersion = 'v1' | 'v2';

/** ESO's default `auth.kubernetes.mountPath` (and the CSI provider's default auth mount). */
const DEFAULT_KUBERNETES_AUTH_MOUNT = 'kubernetes';
/** ESO's default `auth.jwt.path`. */
const DEFAULT_JWT_AUTH_MOUNT = 'jwt';

/** The object the CSI provider reads for one secret (field order is the YAML order). */
type VaultObject = {
  readonly objectName: string;
  readonly secretPath: string;
  readonly secretKey?: string;
};

/**
 * The KV read path ESO uses for `key` (its `buildPath`), so the CSI provider reads the very
 * secret ESO syncs: with a store `path`, a key that already starts with `<path>/` (and, for v2,
 * `<path>/data/`) is not prefixed twice; without one, a v2 key gets `data` after its first
 * segment unless it already contains `/data/`.
 */
export function kvReadPath(key: string, mount: string | undefined, version: KvVersion): string {
  if (mount !== undefined) {
    let rest = key;
    if (rest.startsWith(`${mount}/`)) {
      rest = rest.slice(mount.length + 1);
      if (version === 'v2' && rest.startsWith('data/')) rest = rest.slice('data/'.length);
    }
    return version === 'v2' ? `${mount}/data/${rest}` : `${mount}/${rest}`;
  }
  if (version === 'v2' && !key.includes('/data/')) {
    const slash = key.indexOf('/');
    return slash === -1 ? `${key}/data` : `${key.slice(0, slash)}/data${key.slice(slash)}`;
  }
  return key;
}

interface VaultAuth {
  readonly mountPath?: string;
  readonly role?: string;
}

/** The auth mount and role a `vault` store's Kubernetes or JWT auth gives the CSI provider. */
function storeAuth(config: Readonly<Record<string, unknown>>, store: EsoStore, problems: Problem[]): VaultAuth {
  const auth = recordAt(config, 'auth');
  const kubernetes = recordAt(auth, 'kubernetes');
  if (kubernetes) {
    return {
      mountPath:
        optionalString(kubernetes, 'mountPath', 'vault.auth.kubernetes.mountPath', store, problems) ??
        DEFAULT_KUBERNETES_AUTH_MOUNT,
      role: optionalString(kubernetes, 'role', 'vault.auth.kubernetes.role', store, problems),
    };
  }
  const jwt = recordAt(auth, 'jwt');
  if (jwt) {
    return {
      mountPath: optionalString(jwt, 'path', 'vault.auth.jwt.path', store, problems) ?? DEFAULT_JWT_AUTH_MOUNT,
      role: optionalString(jwt, 'role', 'vault.auth.jwt.role', store, problems),
    };
  }
  return {};
}

function kvVersion(config: Readonly<Record<string, unknown>>, backend: string, store: EsoStore, problems: Problem[]): KvVersion {
  const version = optionalString(config, 'version', `${backend}.version`, store, problems) ?? 'v2';
  if (version !== 'v1' && version !== 'v2') {
    problems.push(storeProblem(store, `spec.provider.${backend}.version must be v1 or v2, not "${version}"`));
    return 'v2';
  }
  return version;
}

function toObject(
  secret: SecretSpec,
  readPath: (key: string) => string,
  version: KvVersion,
  problems: Problem[],
): VaultObject {
  // The provider splits secretPath at `?` into path and query parameters.
  if (secret.key.includes('?')) {
    problems.push({
      field: secretField(secret.name),
      message: `the key "${secret.key}" contains "?", which the CSI provider reads as the start of query parameters`,
    });
  }
  let secretPath = readPath(secret.key);
  if (secret.version !== undefined) {
    if (version === 'v1') {
      problems.push({
        field: versionField(secret.name),
        message: 'the store uses KV version 1, which keeps no versions; remove the annotation',
      });
    } else if (!/^[1-9][0-9]{0,15}$/.test(secret.version)) {
      problems.push({
        field: versionField(secret.name),
        message: `a KV version is a positive integer, not "${secret.version}"`,
      });
    } else {
      // KV v2 reads a version through the `version` query parameter of `<mount>/data/<key>`.
      secretPath = `${secretPath}?version=${secret.version}`;
    }
  }
  return secret.property === undefined
    ? { objectName: secret.name, secretPath }
    : { objectName: secret.name, secretPath, secretKey: secret.property };
}

/** What one ESO store of a Vault-compatible backend tells the CSI provider. */
interface KvStore {
  readonly address: string | undefined;
  readonly namespace: string | undefined;
  readonly version: KvVersion;
  readonly auth: VaultAuth;
  readonly readPath: (key: string) => string;
}

function toCsiParameters(
  store: EsoStore,
  request: InjectionRequest,
  providerName: string,
  kv: KvStore,
  problems: Problem[],
): CsiProviderResult {
  const roleName = request.role ?? kv.auth.role;
  if (roleName === undefined) {
    problems.push({
      field: ROLE_ANNOTATION,
      message:
        `${describeStore(store)} has no Kubernetes auth role the CSI provider could use; ` +
        "set this annotation to the role the pod's service account logs in with",
    });
  }
  const objects = request.secrets.map((secret) => toObject(secret, kv.readPath, kv.version, problems));
  if (problems.length > 0 || kv.address === undefined || roleName === undefined) return failed(problems);

  const parameters: Record<string, string> = { vaultAddress: kv.address };
  if (kv.namespace !== undefined) parameters.vaultNamespace = kv.namespace;
  if (kv.auth.mountPath !== undefined) parameters.vaultAuthMountPath = kv.auth.mountPath;
  parameters.roleName = roleName;
  parameters.objects = yamlList(objects);
  return { ok: true, spec: { provider: providerName, parameters } };
}

/** ESO's `vault` provider (HashiCorp Vault, and OpenBao through its Vault compatibility). */
export const vaultMapping: BackendMapping = {
  backend: 'vault',
  defaultProviderName: 'vault',
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult {
    const problems: Problem[] = [];
    const config = recordAt(store.spec.provider, 'vault') ?? {};
    const mount = optionalString(config, 'path', 'vault.path', store, problems)?.replace(/\/+$/, '') || undefined;
    const version = kvVersion(config, 'vault', store, problems);
    return toCsiParameters(store, request, providerName, {
      address: requiredString(config, 'server', 'vault.server', store, problems),
      namespace: optionalString(config, 'namespace', 'vault.namespace', store, problems),
      version,
      auth: storeAuth(config, store, problems),
      readPath: (key) => kvReadPath(key, mount, version),
    }, problems);
  },
};

/** ESO's default mount for its native `openBao` provider. */
const DEFAULT_OPENBAO_KV_MOUNT = 'kv';

/**
 * ESO's native `openBao` provider: a KV client on `path` (default `kv`), reading
 * `<path>/data/<key>` (v2) or `<path>/<key>` (v1) with no prefix handling. Its auth methods
 * (token, AppRole, userpass) have no Kubernetes role, so pods name one with `role`.
 */
export const openBaoMapping: BackendMapping = {
  backend: 'openBao',
  defaultProviderName: 'openbao',
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult {
    const problems: Problem[] = [];
    const config = recordAt(store.spec.provider, 'openBao') ?? {};
    const version = kvVersion(config, 'openBao', store, problems);
    let mount = (optionalString(config, 'path', 'openBao.path', store, problems) ?? DEFAULT_OPENBAO_KV_MOUNT).replace(/\/+$/, '');
    // The store may spell the v2 mount with its `/data` suffix; it is added once, here.
    if (version === 'v2') mount = mount.replace(/\/data$/, '');
    return toCsiParameters(store, request, providerName, {
      address: requiredString(config, 'server', 'openBao.server', store, problems),
      namespace: optionalString(config, 'namespace', 'openBao.namespace', store, problems),
      version,
      auth: {},
      readPath: (key) => (version === 'v2' ? `${mount}/data/${key}` : `${mount}/${key}`),
    }, problems);
  },
};
