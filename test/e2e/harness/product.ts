// One scenario's product setup: deploy/ installed, stores created, a webhook replica running as
// deploy/'s ServiceAccount and registered through deploy/'s MutatingWebhookConfiguration; plus
// the fixtures and the readers scenarios assert with.
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { cluster, list, type AuditEvent, type Cluster, type TestContext } from './cluster.ts';
import {
  installDeploy,
  registerWebhook,
  renderDeploy,
  startWebhook,
  type DeployManifests,
  type Manifest,
  type RunningWebhook,
} from './webhook.ts';

export const annotationPrefix = 'hybrid-secrets.io/';
/** The namespace opt-in label of deploy/'s namespaceSelector. */
export const optInLabels = { 'hybrid-secrets.io/injection': 'enabled' } as const;
export const managedBySelector = 'app.kubernetes.io/managed-by=hybrid-secrets';
export const csiDriver = 'secrets-store.csi.k8s.io';
const webhookName = 'inject.hybrid-secrets.io';

export interface Product {
  readonly kube: Cluster;
  readonly manifests: DeployManifests;
  /** The first replica, registered with the API server. */
  readonly webhook: RunningWebhook;
  /** `system:serviceaccount:<ns>:<name>` of deploy/'s ServiceAccount. */
  readonly username: string;
  /** A fresh namespace carrying the opt-in label, deleted at teardown. */
  optedInNamespace(t: TestContext, prefix: string): Promise<string>;
  /** Another replica (same flags, same ServiceAccount), not registered; `port` to restart one in place. */
  startReplica(t: TestContext, name: string, port?: number): Promise<RunningWebhook>;
  /** Re-registers deploy/'s configuration at `url` and waits until the API server calls it. */
  register(url: string): Promise<void>;
}

/** A unique, DNS-safe suffix for cluster-scoped fixtures. */
export function suffix(): string {
  return randomBytes(3).toString('hex');
}

/** A Vault-backed ClusterSecretStore (ESO's v1 schema); `conditions` restrict its namespaces. */
export function vaultClusterStore(name: string, conditions?: readonly unknown[]): Manifest {
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ClusterSecretStore',
    metadata: { name },
    spec: {
      ...(conditions === undefined ? {} : { conditions }),
      provider: {
        vault: {
          server: 'https://vault.example:8200',
          path: 'secret',
          version: 'v2',
          auth: { kubernetes: { mountPath: 'kubernetes', role: 'apps' } },
        },
      },
    },
  };
}

/** Pod annotations asking for `secrets` (name → remote ref) from `store`. */
export function injectionAnnotations(
  store: string,
  secrets: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const annotations: Record<string, string> = {
    [`${annotationPrefix}inject`]: 'true',
    [`${annotationPrefix}store`]: store,
  };
  for (const [name, ref] of Object.entries(secrets)) annotations[`${annotationPrefix}secret-${name}`] = ref;
  for (const [key, value] of Object.entries(extra)) annotations[`${annotationPrefix}${key}`] = value;
  return annotations;
}

export function deployment(
  name: string,
  namespace: string,
  options: {
    readonly replicas?: number;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly strategy?: unknown;
    readonly revisionHistoryLimit?: number;
  } = {},
): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: options.replicas ?? 1,
      ...(options.revisionHistoryLimit === undefined ? {} : { revisionHistoryLimit: options.revisionHistoryLimit }),
      ...(options.strategy === undefined ? {} : { strategy: options.strategy }),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { ...options.annotations } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.example/app:1' },
            { name: 'sidecar', image: 'registry.example/sidecar:1' },
          ],
        },
      },
    },
  };
}

export function pod(name: string, namespace: string, annotations: Readonly<Record<string, string>> = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, annotations: { ...annotations } } as Manifest['metadata'],
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
  };
}

export function toYaml(...docs: readonly unknown[]): string {
  return docs.map((doc) => stringify(doc)).join('---\n');
}

/** The CSI volume the webhook added, if any. */
export function csiVolume(target: V1Pod) {
  return target.spec?.volumes?.find((volume) => volume.csi?.driver === csiDriver);
}

/** The SecretProviderClass a pod mounts (from its CSI volume). */
export function mountedClass(target: V1Pod): string | undefined {
  return csiVolume(target)?.csi?.volumeAttributes?.['secretProviderClass'];
}

export async function generatedObjects(kube: Cluster, namespace: string) {
  const [externalSecrets, classes] = await Promise.all([
    list(kube, 'external-secrets.io/v1', 'ExternalSecret', namespace, managedBySelector),
    list(kube, 'secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass', namespace, managedBySelector),
  ]);
  return { externalSecrets, classes };
}

/** Audit events of pod creations in `namespace` for which the API server called our webhook. */
export function webhookCalls(kube: Cluster, namespace: string): AuditEvent[] {
  return kube.auditEvents(
    (event) =>
      event.verb === 'create' &&
      event.objectRef?.resource === 'pods' &&
      event.objectRef.subresource === undefined &&
      event.objectRef.namespace === namespace &&
      Object.entries(event.annotations ?? {}).some(
        ([key, value]) => key.startsWith('mutation.webhook.admission.k8s.io/') && value.includes(`"webhook":"${webhookName}"`),
      ),
  );
}

/** Writes (create/update/patch/apply) by `username` to a resource in `namespace`. */
export function writesBy(kube: Cluster, username: string, resource: string, namespace: string): AuditEvent[] {
  return kube.auditEvents(
    (event) =>
      event.user.username === username &&
      ['create', 'update', 'patch'].includes(event.verb) &&
      event.objectRef?.resource === resource &&
      event.objectRef.namespace === namespace,
  );
}

/**
 * Installs deploy/, creates `stores` (deleted at teardown), starts replica `a` and registers it.
 * Stores exist before the webhook starts, so its caches hold them once it reports ready.
 */
export async function startProduct(t: TestContext, options: { readonly stores?: readonly Manifest[] } = {}): Promise<Product> {
  const kube = cluster();
  const manifests = await renderDeploy(kube);
  await installDeploy(kube, manifests);
  for (const store of options.stores ?? []) {
    await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(store) });
    t.teardown(async () => {
      await kube.kubectl(['delete', store.kind, store.metadata.name, '--ignore-not-found', '--wait=false']);
    });
  }
  const webhook = await startWebhook(t, kube, manifests, { name: 'a' });
  const probeNamespace = await kube.namespace(t, 'probe', optInLabels);
  const register = (url: string): Promise<void> => registerWebhook(kube, manifests, url, probeNamespace);
  await register(webhook.url);
  t.teardown(async () => {
    await kube.kubectl(['delete', 'mutatingwebhookconfiguration', manifests.webhookConfiguration.metadata.name, '--ignore-not-found']);
  });
  return {
    kube,
    manifests,
    webhook,
    username: `system:serviceaccount:${manifests.serviceAccount.namespace}:${manifests.serviceAccount.name}`,
    optedInNamespace: (tt, prefix) => kube.namespace(tt, prefix, optInLabels),
    startReplica: (tt, name, port) => startWebhook(tt, kube, manifests, port === undefined ? { name } : { name, port }),
    register,
  };
}

/**
 * Marks pods Ready through the status subresource, as a kubelet would once containers run.
 * There is no kubelet here; without this a rolling update can never finish.
 */
export async function markReady(kube: Cluster, namespace: string, pods: readonly V1Pod[]): Promise<void> {
  const now = new Date().toISOString();
  const status = {
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
    },
  };
  for (const item of pods) {
    await kube.kubectlOk([
      'patch',
      'pod',
      item.metadata?.name ?? '',
      `--namespace=${namespace}`,
      '--subresource=status',
      '--type=merge',
      `--patch=${JSON.stringify(status)}`,
    ]);
  }
}

/** Names of the generated ExternalSecrets and SecretProviderClasses, sorted. */
export async function generatedNames(kube: Cluster, namespace: string): Promise<{ externalSecrets: string[]; classes: string[] }> {
  const { externalSecrets, classes } = await generatedObjects(kube, namespace);
  const names = (items: ReadonlyArray<{ metadata?: { name?: string } }>): string[] =>
    items.map((item) => item.metadata?.name ?? '').sort();
  return { externalSecrets: names(externalSecrets), classes: names(classes) };
}
