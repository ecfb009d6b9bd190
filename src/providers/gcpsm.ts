// ESO `gcpsm` stores → the Google Secret Manager CSI provider. Pure.
//
// Parameters: `secrets`, a YAML list of {resourceName, path, extractJSONKey?}. resourceName is
// built as ESO builds it: projects/<projectID>[/locations/<location>]/secrets/<key>/versions/<v>
// (`latest` by default). The provider authenticates as the pod (workload identity) by default,
// which is what its `auth` parameter's default means, so no auth parameter is written.
import type { InjectionRequest, Problem, SecretSpec } from '../contract/types.ts';
import type { EsoStore } from '../stores/types.ts';
import {
  failed,
  optionalString,
  recordAt,
  secretField,
  storeProblem,
  versionField,
} from './shared.ts';
import type { BackendMapping, CsiProviderResult } from './types.ts';
import { yamlList } from './yaml-parameter.ts';

type GcpSecret = {
  readonly resourceName: string;
  readonly path: string;
  readonly extractJSONKey?: string;
};

// One path segment: the provider's resource pattern splits on `/`.
const SEGMENT = /^[^/\s]+$/;
// Secret ids: letters, digits, `-` and `_`, up to 255; versions: a number or an alias (`latest`).
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION = /^[A-Za-z0-9_-]{1,63}$/;

/** ESO's resource name for a key, version and (optionally regional) store. */
export function resourceName(projectId: string, location: string | undefined, key: string, version: string): string {
  const parent = location === undefined ? `projects/${projectId}` : `projects/${projectId}/locations/${location}`;
  return `${parent}/secrets/${key}/versions/${version}`;
}

function toSecret(
  secret: SecretSpec,
  projectId: string,
  location: string | undefined,
  problems: Problem[],
): GcpSecret | undefined {
  let valid = true;
  if (!SECRET_ID.test(secret.key)) {
    problems.push({
      field: secretField(secret.name),
      message: `"${secret.key}" is not a Secret Manager secret id (letters, digits, "-" and "_", at most 255)`,
    });
    valid = false;
  }
  if (secret.version !== undefined && !VERSION.test(secret.version)) {
    problems.push({
      field: versionField(secret.name),
      message: `"${secret.version}" is not a Secret Manager version (a number, "latest" or an alias)`,
    });
    valid = false;
  }
  if (!valid) return undefined;
  const name = resourceName(projectId, location, secret.key, secret.version ?? 'latest');
  return secret.property === undefined
    ? { resourceName: name, path: secret.name }
    : { resourceName: name, path: secret.name, extractJSONKey: secret.property };
}

export const gcpSecretManagerMapping: BackendMapping = {
  backend: 'gcpsm',
  defaultProviderName: 'gcp',
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult {
    const problems: Problem[] = [];
    const config = recordAt(store.spec.provider, 'gcpsm');
    // ESO falls back to the workload identity cluster project when projectID is unset.
    const clusterProject = optionalString(
      recordAt(recordAt(config, 'auth'), 'workloadIdentity'),
      'clusterProjectID',
      'gcpsm.auth.workloadIdentity.clusterProjectID',
      store,
      problems,
    );
    const projectId = optionalString(config, 'projectID', 'gcpsm.projectID', store, problems) ?? clusterProject;
    if (projectId === undefined) {
      problems.push(storeProblem(store, 'spec.provider.gcpsm.projectID is required to name the secrets'));
    } else if (!SEGMENT.test(projectId)) {
      problems.push(storeProblem(store, `spec.provider.gcpsm.projectID "${projectId}" is not a project id`));
    }
    const location = optionalString(config, 'location', 'gcpsm.location', store, problems);
    // The provider refuses locations longer than 30 characters.
    if (location !== undefined && (!SEGMENT.test(location) || location.length > 30)) {
      problems.push(storeProblem(store, `spec.provider.gcpsm.location "${location}" is not a location`));
    }
    const secrets =
      projectId === undefined ? [] : request.secrets.flatMap((secret) => toSecret(secret, projectId, location, problems) ?? []);
    if (problems.length > 0) return failed(problems);
    return { ok: true, spec: { provider: providerName, parameters: { secrets: yamlList(secrets) } } };
  },
};
