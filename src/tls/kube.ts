// Kubernetes implementations of the self-managed TLS interfaces (rotator.ts), with
// @kubernetes/client-node. Both touch exactly one object, by name, matching the RBAC in
// deploy/tls-auto-rbac.yaml: the TLS Secret (get, patch) and the webhook configuration (get, patch).
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { isConflict, toKubeApiError } from '../kube/errors.ts';
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
    const secret = await call(`read Secret ${this.namespace}/${this.name}`, () =>
      this.api.readNamespacedSecret({ namespace: this.namespace, name: this.name }, requestOptions(this.requestTimeoutMs)),
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
      await call(`update Secret ${this.namespace}/${this.name}`, () =>
        this.api.patchNamespacedSecret(
          { namespace: this.namespace, name: this.name, body: { metadata: { resourceVersion }, data: patch } },
          requestOptions(this.requestTimeoutMs, MERGE_PATCH),
        ),
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
    await call(`update caBundle of MutatingWebhookConfiguration ${this.name}`, () =>
      this.api.patchMutatingWebhookConfiguration({ name: this.name, body: patch }, requestOptions(this.requestTimeoutMs, JSON_PATCH)),
    );
  }

  private async get(): Promise<{ resourceVersion: string; webhooks: { caBundle?: string }[] }> {
    const config = await call(`read MutatingWebhookConfiguration ${this.name}`, () =>
      this.api.readMutatingWebhookConfiguration({ name: this.name }, requestOptions(this.requestTimeoutMs)),
    );
    return {
      resourceVersion: config.metadata?.resourceVersion ?? '',
      webhooks: (config.webhooks ?? []).map((w) => ({ caBundle: w.clientConfig.caBundle })),
    };
  }
}

/** Bounds every request in time and sets the patch content type. */
function requestOptions(timeoutMs: number, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(context: RequestContext) {
      context.setSignal(AbortSignal.timeout(timeoutMs));
      if (contentType !== undefined) context.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    const apiError = toKubeApiError(error);
    apiError.message = `${what}: ${apiError.message}`;
    throw apiError;
  }
}
