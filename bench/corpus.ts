// Deterministic corpus of AdmissionReviews for the admission benchmark, generated from the
// templates in bench/templates. Same templates + same seed → byte-identical bodies, so runs on
// different days (and branches) measure the same work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ANNOTATION_PREFIX } from '../src/contract/types.ts';

/** Classes measured separately: they take different paths through the webhook. */
export const CORPUS_CLASSES = ['hot', 'invalid', 'unselected'] as const;
export type CorpusClass = (typeof CORPUS_CLASSES)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface PodTemplate {
  readonly workload: string;
  readonly controller: 'ReplicaSet' | 'StatefulSet' | 'Job';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly spec: JsonObject;
}

export interface Placement {
  readonly namespace: string;
  readonly store: string;
  readonly kind?: 'ClusterSecretStore' | 'SecretStore';
  readonly backend: 'vault' | 'aws' | 'azurekv' | 'gcpsm';
}

export interface Templates {
  readonly pods: readonly PodTemplate[];
  readonly usable: readonly Placement[];
  readonly refused: { readonly notPermitted: string; readonly noCsiProvider: string };
}

export interface CorpusOptions {
  readonly seed: number;
  /** Distinct workloads (distinct annotation sets, hence distinct generated objects). */
  readonly workloads: number;
  /** Pods admitted per workload: they share a spec and differ in request uid and pod name. */
  readonly podsPerWorkload: number;
}

export interface CorpusEntry {
  readonly class: CorpusClass;
  readonly uid: string;
  readonly namespace: string;
  readonly workload: string;
  readonly containers: number;
  readonly secrets: number;
  /** For `invalid`: which rule the review breaks. */
  readonly violation?: InvalidVariant;
  /** The AdmissionReview as sent on the wire (JSON). */
  readonly body: string;
}

export const TEMPLATES_DIR = join(import.meta.dirname, 'templates');
export const STORES_FILE = join(TEMPLATES_DIR, 'stores.yaml');

export function loadTemplates(dir: string = TEMPLATES_DIR): Templates {
  const pods = parseYaml(readFileSync(join(dir, 'pods.yaml'), 'utf8')) as { templates: PodTemplate[] };
  const placements = parseYaml(readFileSync(join(dir, 'placements.yaml'), 'utf8')) as Omit<Templates, 'pods'>;
  return { pods: pods.templates, usable: placements.usable, refused: placements.refused };
}

/** mulberry32: tiny, fast, good enough to pick corpus shapes; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Picker {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  one<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
  /** Lower-case alphanumerics, like the API server's generateName suffixes. */
  suffix(length: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let out = '';
    while (out.length < length) out += alphabet[this.int(0, alphabet.length - 1)];
    return out;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

const SECRET_NAMES = [
  'db-password', 'db-username', 'api-key', 'jwt-signing-key', 'redis-password', 'smtp-password',
  'oauth-client-id', 'oauth-client-secret', 'stripe-secret-key', 'webhook-hmac', 'sentry-dsn',
  'encryption-key', 'kafka-sasl-password', 'ldap-bind-password', 'github-token', 'slack-token',
  'license.key', 'tls.key', 'tls.crt', 'ca.crt', 'backup-passphrase', 'cdn-signing-key',
] as const;
const PROPERTIES = ['password', 'username', 'value', 'token', 'key'] as const;

/** Selected-but-invalid reviews: each breaks one rule of the annotation contract. */
export const INVALID_VARIANTS = [
  'bad-secret-name',
  'relative-mount-path',
  'system-mount-path',
  'unknown-container',
  'invalid-env-name',
  'env-already-defined',
  'unknown-store',
  'bad-store-kind',
  'store-not-permitted',
  'no-csi-provider',
  'no-secrets',
] as const;
export type InvalidVariant = (typeof INVALID_VARIANTS)[number];

const CLASS_SEED_OFFSET: Record<CorpusClass, number> = { hot: 1, invalid: 2, unselected: 3 };

export function generateCorpus(templates: Templates, cls: CorpusClass, options: CorpusOptions): CorpusEntry[] {
  const pick = new Picker(options.seed * 7919 + CLASS_SEED_OFFSET[cls]);
  const entries: CorpusEntry[] = [];
  for (let w = 0; w < options.workloads; w++) {
    const template = pick.one(templates.pods);
    const placement = pick.one(templates.usable);
    const workload = `${template.workload}-${w}`;
    const containerCount = pick.int(1, templateContainers(template).length);
    const spec = structuredClone(template.spec);
    spec.containers = templateContainers(template).slice(0, containerCount).map((c) => structuredClone(c));
    const annotations: Record<string, string> = { ...template.annotations };
    let secretCount = 0;
    let violation: InvalidVariant | undefined;
    if (cls === 'unselected') {
      // Mostly pods that never mention us; some say inject=false while keeping the rest.
      if (pick.chance(0.25)) {
        secretCount = addInjection(pick, annotations, spec, workload, placement);
        annotations[`${ANNOTATION_PREFIX}inject`] = 'false';
      }
    } else {
      secretCount = addInjection(pick, annotations, spec, workload, placement);
      if (cls === 'invalid') {
        violation = INVALID_VARIANTS[w % INVALID_VARIANTS.length] as InvalidVariant;
        breakRule(violation, annotations, spec, templates);
      }
    }
    const controller = controllerOf(pick, template, workload);
    for (let p = 0; p < options.podsPerWorkload; p++) {
      const uid = pick.uuid();
      const pod = admittedPod(pick, template, controller, annotations, spec, placement.namespace);
      const review = admissionReview(uid, placement.namespace, pod, controller.userName);
      entries.push({
        class: cls,
        uid,
        namespace: placement.namespace,
        workload,
        containers: containerCount,
        secrets: secretCount,
        ...(violation ? { violation } : {}),
        body: JSON.stringify(review),
      });
    }
  }
  return entries;
}

function templateContainers(template: PodTemplate): JsonObject[] {
  return template.spec.containers as JsonObject[];
}

function containersOf(spec: JsonObject, field: 'containers' | 'initContainers'): JsonObject[] {
  return (spec[field] as JsonObject[] | undefined) ?? [];
}

function envNames(container: JsonObject): Set<string> {
  return new Set(((container.env as JsonObject[] | undefined) ?? []).map((e) => e.name as string));
}

/** Adds a valid injection request (1–20 secrets and some optional annotations); returns the secret count. */
function addInjection(
  pick: Picker,
  annotations: Record<string, string>,
  spec: JsonObject,
  workload: string,
  placement: Placement,
): number {
  const a = (key: string, value: string) => (annotations[`${ANNOTATION_PREFIX}${key}`] = value);
  a('inject', 'true');
  a('store', placement.store);
  if (placement.kind === 'SecretStore' || pick.chance(0.3)) a('store-kind', placement.kind ?? 'ClusterSecretStore');
  const containers = containersOf(spec, 'containers');
  const inits = containersOf(spec, 'initContainers');
  let targets = containers;
  if (containers.length > 1 && pick.chance(0.4)) {
    targets = containers.slice(0, pick.int(1, containers.length - 1));
    a('containers', targets.map((c) => c.name as string).join(','));
  }
  if (inits.length > 0 && pick.chance(0.3)) {
    const first = inits[0] as JsonObject;
    a('init-containers', first.name as string);
    targets = [...targets, first];
  }
  if (pick.chance(0.3)) a('mount-path', pick.one(['/secrets', '/app/secrets', `/mnt/${workload}`]));
  if (pick.chance(0.2)) a('refresh-interval', pick.one(['5m', '15m', '30m', '6h']));
  if (placement.backend === 'vault' && pick.chance(0.2)) a('role', `${workload}-reader`);
  const taken = new Set(targets.flatMap((c) => [...envNames(c)]));
  const count = pick.int(1, 20);
  for (let i = 0; i < count; i++) {
    const base = SECRET_NAMES[i % SECRET_NAMES.length] as string;
    const name = i < SECRET_NAMES.length ? base : `${base}-${Math.floor(i / SECRET_NAMES.length)}`;
    a(`secret-${name}`, remoteRef(pick, placement.backend, workload, name));
    if (pick.chance(0.15)) a(`version-${name}`, placement.backend === 'aws' ? `v${pick.int(1, 9)}` : String(pick.int(1, 30)));
    const envName = name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    if (pick.chance(0.25) && !taken.has(envName)) {
      a(`env-${name}`, envName);
      taken.add(envName);
    }
  }
  return count;
}

function remoteRef(pick: Picker, backend: Placement['backend'], workload: string, name: string): string {
  switch (backend) {
    case 'vault':
      return `apps/${workload}/${name}#${pick.one(PROPERTIES)}`;
    case 'aws':
      return pick.chance(0.5) ? `prod/${workload}/${name}#${pick.one(PROPERTIES)}` : `prod/${workload}/${name}`;
    case 'azurekv':
      // Key Vault secret names allow only alphanumerics and dashes; no property extraction.
      return `${workload}-${name}`.replace(/[^A-Za-z0-9-]/g, '-');
    case 'gcpsm': {
      // Secret ids allow only letters, digits, `-` and `_`.
      const id = `${workload}_${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
      return pick.chance(0.3) ? `${id}#${pick.one(PROPERTIES)}` : id;
    }
  }
}

function breakRule(variant: InvalidVariant, annotations: Record<string, string>, spec: JsonObject, templates: Templates): void {
  const key = (k: string) => `${ANNOTATION_PREFIX}${k}`;
  switch (variant) {
    case 'bad-secret-name':
      annotations[key('secret-DB_Password')] = 'apps/db#password';
      return;
    case 'relative-mount-path':
      annotations[key('mount-path')] = 'secrets/app';
      return;
    case 'system-mount-path':
      annotations[key('mount-path')] = '/etc';
      return;
    case 'unknown-container':
      annotations[key('containers')] = `${containersOf(spec, 'containers')[0]?.name as string},sidecar-that-is-not-there`;
      return;
    case 'invalid-env-name':
      annotations[key(`env-${firstSecretName(annotations)}`)] = '1-PASSWORD';
      return;
    case 'env-already-defined': {
      const first = containersOf(spec, 'containers')[0] as JsonObject;
      const existing = [...envNames(first)][0] ?? 'PATH';
      delete annotations[key('containers')];
      annotations[key(`env-${firstSecretName(annotations)}`)] = existing;
      return;
    }
    case 'unknown-store':
      annotations[key('store')] = 'vault-that-does-not-exist';
      delete annotations[key('store-kind')];
      return;
    case 'bad-store-kind':
      annotations[key('store-kind')] = 'VaultStore';
      return;
    case 'store-not-permitted':
      annotations[key('store')] = templates.refused.notPermitted;
      delete annotations[key('store-kind')];
      return;
    case 'no-csi-provider':
      annotations[key('store')] = templates.refused.noCsiProvider;
      delete annotations[key('store-kind')];
      return;
    case 'no-secrets':
      for (const k of Object.keys(annotations)) {
        if (k.startsWith(key('secret-')) || k.startsWith(key('version-')) || k.startsWith(key('env-'))) delete annotations[k];
      }
      return;
  }
}

function firstSecretName(annotations: Record<string, string>): string {
  const prefix = `${ANNOTATION_PREFIX}secret-`;
  const first = Object.keys(annotations).find((k) => k.startsWith(prefix));
  if (!first) throw new Error('corpus: an injection request without secrets');
  return first.slice(prefix.length);
}

interface Controller {
  readonly ownerReference: JsonObject;
  /** StatefulSet pods have a name at admission; the others only a generateName. */
  readonly podName?: string;
  readonly generateName?: string;
  readonly extraLabels: Record<string, string>;
  readonly userName: string;
}

function controllerOf(pick: Picker, template: PodTemplate, workload: string): Controller {
  const uid = pick.uuid();
  const owner = (kind: string, name: string, apiVersion: string): JsonObject => ({
    apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true,
  });
  switch (template.controller) {
    case 'ReplicaSet': {
      const hash = pick.suffix(10);
      const rs = `${workload}-${hash}`;
      return {
        ownerReference: owner('ReplicaSet', rs, 'apps/v1'),
        generateName: `${rs}-`,
        extraLabels: { 'pod-template-hash': hash },
        userName: 'system:serviceaccount:kube-system:replicaset-controller',
      };
    }
    case 'StatefulSet':
      return {
        ownerReference: owner('StatefulSet', workload, 'apps/v1'),
        podName: `${workload}-0`,
        extraLabels: { 'controller-revision-hash': `${workload}-${pick.suffix(10)}`, 'apps.kubernetes.io/pod-index': '0' },
        userName: 'system:serviceaccount:kube-system:statefulset-controller',
      };
    case 'Job': {
      const job = `${workload}-${pick.int(29000000, 29999999)}`;
      return {
        ownerReference: owner('Job', job, 'batch/v1'),
        generateName: `${job}-`,
        extraLabels: { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job, 'job-name': job },
        userName: 'system:serviceaccount:kube-system:job-controller',
      };
    }
  }
}

/** The pod as a mutating webhook receives it: API-server defaults and the token volume applied. */
function admittedPod(
  pick: Picker,
  template: PodTemplate,
  controller: Controller,
  annotations: Record<string, string>,
  templateSpec: JsonObject,
  namespace: string,
): JsonObject {
  const spec = structuredClone(templateSpec);
  const tokenVolume = `kube-api-access-${pick.suffix(5)}`;
  for (const field of ['initContainers', 'containers'] as const) {
    for (const c of containersOf(spec, field)) {
      c.imagePullPolicy ??= 'IfNotPresent';
      c.resources ??= {};
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.volumeMounts = [
        ...((c.volumeMounts as JsonObject[] | undefined) ?? []),
        { name: tokenVolume, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
      ];
    }
  }
  spec.volumes = [
    ...((spec.volumes as JsonObject[] | undefined) ?? []),
    {
      name: tokenVolume,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ];
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount = spec.serviceAccountName as string;
  spec.terminationGracePeriodSeconds ??= 30;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  spec.tolerations = [
    ...((spec.tolerations as JsonObject[] | undefined) ?? []),
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
  const metadata: JsonObject = {
    ...(controller.podName ? { name: controller.podName } : { generateName: controller.generateName as string }),
    namespace,
    labels: { ...template.labels, ...controller.extraLabels },
    ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    ownerReferences: [controller.ownerReference],
  };
  const pod: JsonObject = { apiVersion: 'v1', kind: 'Pod', metadata, spec, status: {} };
  // The controller's create carries its managed fields; they are a good share of a real body.
  const managed: JsonObject = { labels: metadata.labels as Json, ownerReferences: metadata.ownerReferences as Json };
  if (metadata.annotations) managed.annotations = metadata.annotations;
  metadata.managedFields = [
    {
      manager: 'kube-controller-manager',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-01-15T09:30:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: fieldSet({ metadata: managed, spec }),
    },
  ];
  return pod;
}

/** A FieldsV1 set shaped like the API server's: `f:` for fields, `k:` for keyed list items. */
function fieldSet(value: Json): JsonObject {
  const out: JsonObject = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item && typeof item === 'object' && !Array.isArray(item)) {
        const key = 'name' in item ? { name: item.name } : 'uid' in item ? { uid: item.uid } : 'key' in item ? { key: item.key } : undefined;
        if (key) out[`k:${JSON.stringify(key)}`] = { '.': {}, ...fieldSet(item) };
      }
    }
    return out;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out[`f:${k}`] = v && typeof v === 'object' ? fieldSet(v) : {};
    }
  }
  return out;
}

function admissionReview(uid: string, namespace: string, pod: JsonObject, userName: string): JsonObject {
  const gvk = { group: '', version: 'v1', kind: 'Pod' };
  const gvr = { group: '', version: 'v1', resource: 'pods' };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      namespace,
      operation: 'CREATE',
      userInfo: {
        username: userName,
        uid: 'b7c0b4a4-6a3c-4f2e-9c61-3f1c2f0a9d11',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}
