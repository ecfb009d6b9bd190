// What a scenario file uses: the running test cluster (started by run.ts), typed clients as
// the admin, kubectl, namespaces that clean up after themselves, polling, and the audit log.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ClusterState } from './control-plane.ts';
import { kubectl, kubectlOk, type CommandResult } from './kubectl.ts';

export const stateEnvVar = 'HYBRID_SECRETS_E2E_STATE';

/** The slice of tap's Test this harness needs (teardown and a comment). */
export interface TestContext {
  teardown(fn: () => void | Promise<void>): void;
  comment(...message: unknown[]): void;
}

export interface AuditEvent {
  readonly verb: string;
  readonly user: { readonly username: string; readonly groups?: readonly string[] };
  readonly objectRef?: {
    readonly resource?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly apiGroup?: string;
    readonly subresource?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly annotations?: Readonly<Record<string, string>>;
  readonly requestReceivedTimestamp: string;
  readonly stage: string;
}

export interface Cluster {
  readonly state: ClusterState;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly coordination: CoordinationV1Api;
  /** Generic reads of any kind, custom resources included. */
  readonly objects: KubernetesObjectApi;
  /** kubectl as the admin; never rejects for a non-zero exit. */
  kubectl(args: readonly string[], options?: { readonly input?: string }): Promise<CommandResult>;
  /** kubectl as the admin; rejects with stderr on a non-zero exit. */
  kubectlOk(args: readonly string[], options?: { readonly input?: string }): Promise<string>;
  /** A fresh namespace (random suffix), deleted at teardown. */
  namespace(t: TestContext, prefix: string, labels?: Readonly<Record<string, string>>): Promise<string>;
  /** Audit events (ResponseComplete) matching `filter`, oldest first. */
  auditEvents(filter: (event: AuditEvent) => boolean): AuditEvent[];
}

let cached: Cluster | undefined;

/** The cluster of this run; throws a clear error when the file is not run by `npm run test:e2e`. */
export function cluster(): Cluster {
  if (cached !== undefined) return cached;
  const stateFile = process.env[stateEnvVar];
  if (stateFile === undefined) {
    throw new Error(`${stateEnvVar} is not set: run end-to-end scenarios with 'npm run test:e2e [file…]'`);
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(state.adminKubeconfig);
  const run = (args: readonly string[], options?: { readonly input?: string }): Promise<CommandResult> =>
    kubectl(state.adminKubeconfig, args, options);
  const runOk = (args: readonly string[], options?: { readonly input?: string }): Promise<string> =>
    kubectlOk(state.adminKubeconfig, args, options);
  const core = kubeConfig.makeApiClient(CoreV1Api);

  cached = {
    state,
    kubeConfig,
    core,
    apps: kubeConfig.makeApiClient(AppsV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    kubectl: run,
    kubectlOk: runOk,
    async namespace(t, prefix, labels = {}) {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      await core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } });
      t.teardown(async () => {
        await core.deleteNamespace({ name }).catch(() => undefined);
      });
      // The ServiceAccount admission plugin refuses pods until the controller-manager has made
      // the namespace's `default` ServiceAccount.
      await eventually(`ServiceAccount default in ${name}`, async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
        return true;
      });
      return name;
    },
    auditEvents(filter) {
      const lines = readFileSync(state.auditLog, 'utf8').split('\n');
      const events: AuditEvent[] = [];
      for (const line of lines) {
        if (line === '') continue;
        const event = JSON.parse(line) as AuditEvent;
        if (event.stage === 'ResponseComplete' && filter(event)) events.push(event);
      }
      return events;
    },
  };
  return cached;
}

/**
 * Polls `check` until it returns a value other than undefined/false, or fails after
 * `timeoutMs` with the last error it threw. Kubernetes is eventually consistent (controllers,
 * garbage collection); this is how tests wait for it without fixed sleeps.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: { readonly timeoutMs?: number; readonly intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Lists objects of any kind in a namespace (custom resources included). */
export async function list(
  target: Cluster,
  apiVersion: string,
  kind: string,
  namespace: string,
  labelSelector?: string,
): Promise<KubernetesObject[]> {
  const result = await target.objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
  return result.items;
}
