// Kubernetes implementations of the self-managed TLS interfaces (rotator.ts), with
// @kubernetes/client-node. Both touch exactly one object, by name, matching the RBAC in
// deploy/tls-auto-rbac.yaml: the TLS Secret (get, patch) and the webhook configuration (get, patch).
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { call, requestOptions } from '../kube/api.ts';
import { isConflict } from '../kube/errors.ts';
import { TLS_SECRET_KEYS } from './rotation.ts';
import type { CaBundlePublisher, TlsSecretStore } from './rotator.ts';

export const TLS_SECRET_NAME = 'hybrid-secrets-tls';
export const WEBHOOK_CONFIGURATION_NAME = 'hybrid-secrets';

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

export class ClientNodeTlsSecretStore implements TlsSecretStore {
  private readonly api: CoreV1Api;
  private readonly namespace: string;
  private readonly name: string;
  private readonly requestTimeoutMs: number;

  constructor(kubeConfig: KubeConfig, options: { readonly namespace: string; readonly name?: string; readonly requestTimeoutMs: number }) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace;
    this.name = options.name ?? TLS_SECRET_NAME;
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  async read(): Promise<{ data: Record<string, string>; resourceVersion: string }> {
    const secret = await call(
      () => this.api.readNamespacedSecret({ namespace: this.namespace, name: this.name }, requestOptions(AbortSignal.timeout(this.requestTimeoutMs))),
      `read Secret ${this.namespace}/${this.name}`,
    );
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
    return { data, resourceVersion: secret.metadata?.resourceVersion ?? '' };
  }

  async write(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<boolean> {
    // A merge patch carrying resourceVersion is a compare-and-swap: 409 if anyone wrote since.
    // Keys of ours that `data` no longer has (a retired staged CA) are removed with null; keys
    // that are not ours, labels and annotations stay untouched.
    const patch: Record<string, string | null> = {};
    for (const key of Object.values(TLS_SECRET_KEYS)) patch[key] = null;
    for (const [key, value] of Object.entries(data)) patch[key] = Buffer.from(value, 'utf8').toString('base64');
    try {
      await call(
        () =>
          this.api.patchNamespacedSecret(
            { namespace: this.namespace, name: this.name, body: { metadata: { resourceVersion }, data: patch } },
            requestOptions(AbortSignal.timeout(this.requestTimeoutMs), MERGE_PATCH),
          ),
        `update Secret ${this.namespace}/${this.name}`,
      );
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }
}

export class ClientNodeCaBundlePublisher implements CaBundlePublisher {
  private readonly api: AdmissionregistrationV1Api;
  private readonly name: string;
  private readonly requestTimeoutMs: number;

  constructor(kubeConfig: KubeConfig, options: { readonly name?: string; readonly requestTimeoutMs: number }) {
    this.api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
    this.name = options.name ?? WEBHOOK_CONFIGURATION_NAME;
    this.requestTimeoutMs = options.requestTimeoutMs;
  }

  async read(): Promise<string | undefined> {
    const bundles = new Set((await this.get()).webhooks.map((w) => w.caBundle ?? ''));
    const [only] = bundles;
    return bundles.size === 1 && only !== '' && only !== undefined ? Buffer.from(only, 'base64').toString('utf8') : undefined;
  }

  async publish(bundlePem: string): Promise<void> {
    const { resourceVersion, webhooks } = await this.get();
    if (webhooks.length === 0) throw new Error(`MutatingWebhookConfiguration ${this.name} has no webhooks to publish a caBundle to`);
    const caBundle = Buffer.from(bundlePem, 'utf8').toString('base64');
    // `test` pins the version read, so the indexes below still name the same webhooks.
    const patch = [
      { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
      ...webhooks.map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle })),
    ];
    await call(
      () => this.api.patchMutatingWebhookConfiguration({ name: this.name, body: patch }, requestOptions(AbortSignal.timeout(this.requestTimeoutMs), JSON_PATCH)),
      `update caBundle of MutatingWebhookConfiguration ${this.name}`,
    );
  }

  private async get(): Promise<{ resourceVersion: string; webhooks: { caBundle?: string }[] }> {
    const config = await call(
      () => this.api.readMutatingWebhookConfiguration({ name: this.name }, requestOptions(AbortSignal.timeout(this.requestTimeoutMs))),
      `read MutatingWebhookConfiguration ${this.name}`,
    );
    return {
      resourceVersion: config.metadata?.resourceVersion ?? '',
      webhooks: (config.webhooks ?? []).map((w) => ({ caBundle: w.clientConfig.caBundle })),
    };
  }
}
