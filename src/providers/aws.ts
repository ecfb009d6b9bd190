// ESO `aws` stores → the AWS Secrets Manager / Parameter Store CSI provider. Pure.
//
// Parameters: `region`, `usePodIdentity` (when the store asks for it) and `objects`, a YAML list of
// {objectName, objectType, objectAlias, objectVersion?, objectVersionLabel?, jmesPath?}.
// A property is read with a jmesPath entry whose objectAlias is the secret's file name. The
// provider always writes the whole value too (and reads it back to decide whether to refetch), so
// that copy goes to a dot-file nobody asked for by name, unless a secret asked for the whole value.
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
import { yamlList } from './yaml-parameter.ts';

/** Store annotation: `"true"` makes the provider use EKS Pod Identity instead of IRSA. */
export const AWS_POD_IDENTITY_ANNOTATION = `${ANNOTATION_PREFIX}aws-use-pod-identity`;

type ObjectType = 'secretsmanager' | 'ssmparameter';

const OBJECT_TYPE_BY_SERVICE: Readonly<Record<string, ObjectType>> = {
  SecretsManager: 'secretsmanager',
  ParameterStore: 'ssmparameter',
};

type JmesPathEntry = {
  readonly path: string;
  readonly objectAlias: string;
};

/** One entry of `objects` (field order is the YAML order). */
type AwsObject = {
  readonly objectName: string;
  readonly objectType: ObjectType;
  readonly objectAlias: string;
  readonly objectVersion?: string;
  readonly objectVersionLabel?: string;
  readonly jmesPath?: readonly JmesPathEntry[];
};

interface VersionSelector {
  readonly objectVersion?: string;
  readonly objectVersionLabel?: string;
}

// Version ids, numbers and labels never contain `:` (Parameter Store uses `name:selector`).
const VERSION_TOKEN = /^[^\s:]{1,256}$/;

/**
 * ESO reads a Secrets Manager version `uuid/<id>` as a VersionId and anything else as a
 * VersionStage; a Parameter Store version is `name:<version>`, a number or a label.
 */
function versionSelector(
  secret: SecretSpec,
  objectType: ObjectType,
  problems: Problem[],
): VersionSelector | undefined {
  const version = secret.version;
  if (version === undefined) return {};
  const id = objectType === 'secretsmanager' && version.startsWith('uuid/') ? version.slice('uuid/'.length) : undefined;
  const token = id ?? version;
  if (!VERSION_TOKEN.test(token)) {
    problems.push({
      field: versionField(secret.name),
      message: `"${version}" is not a version id, number or label (no spaces or ":")`,
    });
    return undefined;
  }
  if (id !== undefined) return { objectVersion: id };
  if (objectType === 'ssmparameter' && /^[0-9]+$/.test(version)) return { objectVersion: version };
  return { objectVersionLabel: version };
}

/** gjson property syntax the JMESPath translation cannot express. */
const GJSON_QUERY_SYNTAX = /[*?#|@]/;

/**
 * The JMESPath expression that reads what ESO's `property` reads: a literal key first (ESO tries
 * the key with its dots escaped), else the dotted path. Segments are quoted identifiers, so
 * hyphens and other punctuation need no care.
 */
export function propertyToJmesPath(property: string): string | undefined {
  if (property === '' || GJSON_QUERY_SYNTAX.test(property)) return undefined;
  const segments = property.split(/(?<!\\)\./).map((segment) => segment.replaceAll('\\.', '.'));
  if (segments.some((segment) => segment === '')) return undefined;
  const literal = JSON.stringify(property.replaceAll('\\.', '.'));
  if (segments.length === 1) return literal;
  return `${literal} || ${segments.map((segment) => JSON.stringify(segment)).join('.')}`;
}

const ARN_SERVICE: Readonly<Record<ObjectType, string>> = { secretsmanager: 'secretsmanager', ssmparameter: 'ssm' };

/** The provider rejects an ARN whose region is not the mount's region or whose service differs. */
function arnMatches(secret: SecretSpec, objectName: string, objectType: ObjectType, region: string, problems: Problem[]): boolean {
  if (!objectName.startsWith('arn:')) return true;
  const [, , service, arnRegion] = objectName.split(':');
  if (service !== ARN_SERVICE[objectType] || arnRegion !== region) {
    problems.push({
      field: secretField(secret.name),
      message: `the ARN "${objectName}" must name ${ARN_SERVICE[objectType]} in the store's region "${region}"`,
    });
    return false;
  }
  return true;
}

interface Group {
  readonly objectName: string;
  readonly selector: VersionSelector;
  readonly wholeValue: SecretSpec[];
  readonly properties: { readonly secret: SecretSpec; readonly path: string }[];
}

function selectorKey(selector: VersionSelector): string {
  return `${selector.objectVersion ?? ''}\u0000${selector.objectVersionLabel ?? ''}`;
}

function describeSelector(selector: VersionSelector): string {
  return selector.objectVersion ?? selector.objectVersionLabel ?? 'latest';
}

/** The objects for the secrets, in the order of their first secret (requests come sorted). */
function awsObjects(
  secrets: readonly SecretSpec[],
  objectType: ObjectType,
  keyPrefix: string,
  region: string,
  problems: Problem[],
): AwsObject[] {
  // Parameter Store: the provider fetches all parameters in one batch keyed by name, so one name
  // can appear once. Secrets Manager fetches each object alone, so each version is its own object.
  const groups = new Map<string, Group>();
  for (const secret of secrets) {
    const objectName = keyPrefix + secret.key;
    const selector = versionSelector(secret, objectType, problems);
    if (selector === undefined || !arnMatches(secret, objectName, objectType, region, problems)) continue;
    const groupKey = objectType === 'ssmparameter' ? objectName : `${objectName}\u0000${selectorKey(selector)}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { objectName, selector, wholeValue: [], properties: [] };
      groups.set(groupKey, group);
    } else if (selectorKey(group.selector) !== selectorKey(selector)) {
      problems.push({
        field: versionField(secret.name),
        message:
          `the AWS CSI provider reads parameter "${objectName}" once per mount; another secret of this pod ` +
          `reads version ${describeSelector(group.selector)}, this one ${describeSelector(selector)}`,
      });
      continue;
    }
    if (secret.property === undefined) {
      group.wholeValue.push(secret);
      continue;
    }
    const path = propertyToJmesPath(secret.property);
    if (path === undefined) {
      problems.push({
        field: secretField(secret.name),
        message:
          `the property "${secret.property}" cannot be read by the AWS CSI provider: ` +
          'use a key or a dotted path of keys (no wildcards, queries or modifiers)',
      });
      continue;
    }
    group.properties.push({ secret, path });
  }

  const objects: AwsObject[] = [];
  for (const group of groups.values()) {
    const [first, ...moreWhole] = group.wholeValue;
    if (objectType === 'ssmparameter') {
      for (const extra of moreWhole) {
        problems.push({
          field: secretField(extra.name),
          message:
            `the AWS CSI provider mounts parameter "${group.objectName}" under one name only, ` +
            `and secret-${first?.name ?? ''} already mounts its whole value`,
        });
      }
    }
    const firstName = first?.name ?? group.properties[0]?.secret.name ?? '';
    const jmesPath = group.properties.map(({ secret, path }) => ({ path, objectAlias: secret.name }));
    objects.push({
      objectName: group.objectName,
      objectType,
      // Contract names never start with a dot, so the hidden copy cannot collide with one.
      objectAlias: first ? first.name : `.${firstName}.json`,
      ...group.selector,
      ...(jmesPath.length > 0 ? { jmesPath } : {}),
    });
    if (objectType === 'secretsmanager') {
      for (const extra of moreWhole) {
        objects.push({ objectName: group.objectName, objectType, objectAlias: extra.name, ...group.selector });
      }
    }
  }
  return objects;
}

export const awsMapping: BackendMapping = {
  backend: 'aws',
  defaultProviderName: 'aws',
  toCsi(store: EsoStore, request: InjectionRequest, providerName: string): CsiProviderResult {
    const problems: Problem[] = [];
    const config = recordAt(store.spec.provider, 'aws');
    const region = requiredString(config, 'region', 'aws.region', store, problems);
    const service = requiredString(config, 'service', 'aws.service', store, problems);
    const objectType = service === undefined ? undefined : OBJECT_TYPE_BY_SERVICE[service];
    if (service !== undefined && objectType === undefined) {
      problems.push(
        storeProblem(
          store,
          `the AWS CSI provider reads SecretsManager and ParameterStore, not spec.provider.aws.service "${service}"`,
        ),
      );
    }
    const prefix = optionalString(config, 'prefix', 'aws.prefix', store, problems) ?? '';

    const podIdentity = storeAnnotation(store, AWS_POD_IDENTITY_ANNOTATION);
    if (podIdentity !== undefined && podIdentity !== 'true' && podIdentity !== 'false') {
      problems.push(storeProblem(store, `annotation ${AWS_POD_IDENTITY_ANNOTATION} must be "true" or "false"`));
    }
    const objects =
      objectType === undefined || region === undefined
        ? []
        : awsObjects(request.secrets, objectType, prefix, region, problems);
    if (problems.length > 0 || region === undefined || objectType === undefined) return failed(problems);

    const parameters: Record<string, string> = { region };
    if (podIdentity !== undefined) parameters.usePodIdentity = podIdentity;
    parameters.objects = yamlList(objects);
    return { ok: true, spec: { provider: providerName, parameters } };
  },
};
