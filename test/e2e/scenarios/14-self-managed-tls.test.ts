// Self-managed TLS (--tls-auto, deploy/'s default mode): the elected replica fills the TLS
// Secret, publishes its CA as the webhook configuration's caBundle, and serves the certificate;
// the API server then calls the webhook trusting that CA alone.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { once } from 'node:events';
import t from 'tap';
import type { V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { cluster, eventually } from '../harness/cluster.ts';
import { freePort } from '../harness/ports.ts';
import {
  csiVolume,
  injectionAnnotations,
  optInLabels,
  pod,
  suffix,
  toYaml,
  vaultClusterStore,
} from '../harness/product.ts';
import { splitPemBundle } from '../../../src/tls/rotation.ts';
import { installDeploy, localWebhookConfiguration, renderDeploy, startWebhook } from '../harness/webhook.ts';

t.test('--tls-auto issues, publishes and serves its own certificate', async (t) => {
  const kube = cluster();
  const manifests = await renderDeploy(kube);
  t.ok(manifests.containerArgs.includes('--tls-auto'), "deploy/'s default mode is --tls-auto");
  const tlsSecret = manifests.all.find((doc) => doc.kind === 'Secret');
  t.ok(tlsSecret, 'deploy/ ships the (empty) TLS Secret');
  const secretName = tlsSecret?.metadata.name ?? '';
  const namespace = manifests.serviceAccount.namespace;
  await installDeploy(kube, manifests);

  const store = `vault-${suffix()}`;
  await kube.kubectlOk(['apply', '-f', '-'], { input: toYaml(vaultClusterStore(store)) });
  t.teardown(async () => {
    await kube.kubectl(['delete', 'clustersecretstore', store, '--ignore-not-found', '--wait=false']);
  });

  // deploy/'s webhook configuration pointed at this process, with no caBundle at all: the
  // webhook must publish it before the API server can call it.
  const port = await freePort();
  const url = `https://127.0.0.1:${port}/mutate`;
  const configuration = localWebhookConfiguration(manifests, url, '') as ReturnType<typeof localWebhookConfiguration> & {
    webhooks: Array<{ clientConfig: { url: string; caBundle?: string } }>;
  };
  for (const webhook of configuration.webhooks) delete webhook.clientConfig.caBundle;
  await kube.kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], {
    input: stringify(configuration),
  });
  t.teardown(async () => {
    await kube.kubectl(['delete', 'mutatingwebhookconfiguration', configuration.metadata.name, '--ignore-not-found']);
  });

  await startWebhook(t, kube, manifests, { name: 'auto', port, selfManagedTls: { secretName } });

  const secret = await kube.core.readNamespacedSecret({ namespace, name: secretName });
  const data = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  const ca = new X509Certificate(data('ca.crt'));
  const serving = new X509Certificate(data('tls.crt'));
  t.ok(serving.verify(ca.publicKey), 'the serving certificate in the Secret is signed by its CA');
  t.match(serving.subjectAltName ?? '', `DNS:hybrid-secrets.${namespace}.svc`, 'and names the Service');
  t.ok(data('tls.key').includes('PRIVATE KEY'), 'the Secret holds its key');

  const published = await eventually('the caBundle to be published', async () => {
    const stored = JSON.parse(
      await kube.kubectlOk(['get', 'mutatingwebhookconfiguration', configuration.metadata.name, '-o', 'json']),
    ) as typeof configuration;
    const bundles = stored.webhooks.map((w) => w.clientConfig.caBundle ?? '');
    return bundles.every((bundle) => bundle !== '') ? bundles : undefined;
  });
  for (const bundle of published) {
    const pems = splitPemBundle(Buffer.from(bundle, 'base64').toString('utf8'));
    const fingerprints = pems.map((pem) => new X509Certificate(pem).fingerprint256);
    t.ok(fingerprints.includes(ca.fingerprint256), `caBundle (${pems.length} certificate(s)) carries the Secret's CA`);
  }

  const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: data('ca.crt') });
  await once(socket, 'secureConnect');
  const presented = new X509Certificate(socket.getPeerX509Certificate()?.raw ?? Buffer.alloc(0));
  socket.destroy();
  t.equal(presented.fingerprint256, serving.fingerprint256, 'the webhook serves the certificate from the Secret');

  // The API server trusts only the published caBundle: a pod is injected through it.
  const target = await kube.namespace(t, 'tls-auto', optInLabels);
  await eventually('the API server to call the webhook with the published caBundle', async () => {
    const result = await kube.kubectl(['apply', '-f', '-'], {
      input: toYaml(pod('app', target, injectionAnnotations(store, { token: 'apps/api#token' }))),
    });
    if (result.code !== 0) throw new Error(result.stderr.trim());
    return true;
  });
  const stored: V1Pod = await kube.core.readNamespacedPod({ namespace: target, name: 'app' });
  t.ok(csiVolume(stored), 'the pod was injected');
});
