import { execFileSync } from 'node:child_process';
import t from 'tap';
import {
  celGuardsAnnotation,
  checkRbac,
  checkWebhookConfiguration,
  checkWorkload,
  findKubectl,
  one,
  render,
  repoRoot,
  type Obj,
} from './support/manifests.ts';

const kubectl = findKubectl();
if (kubectl === undefined) {
  t.fail('kubectl not found (set KUBECTL): the manifests cannot be rendered, so nothing about them is verified');
} else {
  const selfManaged = render(kubectl, 'deploy');
  const certManager = render(kubectl, 'deploy/cert-manager');
  const examples = render(kubectl, 'deploy/examples');
  const clone = (objects: Obj[]): Obj[] => structuredClone(objects);
  const webhookContainer = (objects: Obj[]): Obj => one(objects, 'Deployment').spec.template.spec.containers[0];

  t.test('both install modes render and meet every rule', async (t) => {
    for (const [mode, objects] of [['tls-auto', selfManaged], ['cert-manager', certManager]] as const) {
      t.same(checkWorkload(objects), [], `${mode}: workload`);
      t.same(checkRbac(objects, mode), [], `${mode}: RBAC`);
      t.same(checkWebhookConfiguration(objects), [], `${mode}: webhook configuration`);
      for (const o of objects.filter((o) => o.metadata.namespace !== undefined)) {
        t.equal(o.metadata.namespace, 'hybrid-secrets', `${mode}: ${o.kind} ${o.metadata.name} namespace`);
      }
      t.equal(one(objects, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
    }
  });

  t.test('self-managed TLS is the default', async (t) => {
    const args: string[] = webhookContainer(selfManaged).args;
    t.ok(args.includes('--tls-auto'));
    t.notOk(args.some((a) => a.startsWith('--tls-cert-file')), 'no certificate files in this mode');
    const secret = one(selfManaged, 'Secret', 'hybrid-secrets-tls');
    t.equal(secret.type, 'Opaque', 'Opaque: a kubernetes.io/tls Secret must hold tls.crt and tls.key from the start');
    t.equal(secret.data, undefined, 'shipped empty, so apply never overwrites rotated certificates');
    t.equal(secret.stringData, undefined);
    t.equal(selfManaged.filter((o) => o.kind === 'Secret').length, 1, 'no other Secret is shipped');
    t.notOk(selfManaged.some((o) => String(o.apiVersion).startsWith('cert-manager.io/')), 'needs no cert-manager');
    // Exactly the calls src/tls/kube.ts makes (GET, and PATCH with the version read), nothing more.
    const rules = selfManaged.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole').flatMap((r) => r.rules);
    const secretRule = rules.find((r: Obj) => r.resources.includes('secrets'));
    t.same(secretRule.verbs, ['get', 'patch'], 'TLS Secret: get and patch only');
    const webhookRule = rules.find((r: Obj) => r.resources.includes('mutatingwebhookconfigurations'));
    t.same(webhookRule.verbs, ['get', 'patch'], 'webhook configuration: get and patch only');
  });

  t.test('cert-manager mode mounts the issued certificate and injects its CA', async (t) => {
    const container = webhookContainer(certManager);
    const pod = one(certManager, 'Deployment').spec.template.spec;
    t.notOk(container.args.includes('--tls-auto'));
    const flag = (name: string): string | undefined =>
      container.args.find((a: string) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    const mount = container.volumeMounts.find((m: Obj) => m.name === 'tls');
    t.ok(mount?.readOnly, 'certificate volume is read-only');
    t.equal(flag('--tls-cert-file'), `${mount.mountPath}/tls.crt`);
    t.equal(flag('--tls-key-file'), `${mount.mountPath}/tls.key`);
    const volume = pod.volumes.find((v: Obj) => v.name === 'tls');
    t.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup, 'the non-root user can read the 0440 files');

    const injectFrom: string = one(certManager, 'MutatingWebhookConfiguration').metadata.annotations['cert-manager.io/inject-ca-from'];
    const [ns, name] = injectFrom.split('/');
    const serving = one(certManager, 'Certificate', name);
    t.equal(serving.metadata.namespace, ns);
    t.equal(serving.spec.secretName, volume.secret.secretName, 'the mounted Secret is the one cert-manager issues');
    const svc = one(certManager, 'Service');
    t.ok(serving.spec.dnsNames.includes(`${svc.metadata.name}.${svc.metadata.namespace}.svc`), 'SAN of the Service name the API server calls');
    const issuer = one(certManager, 'Issuer', serving.spec.issuerRef.name);
    t.ok(issuer.spec.ca?.secretName, 'serving certificate signed by a CA, so its renewal leaves caBundle unchanged');
    t.notOk(certManager.some((o) => o.kind === 'Secret'), 'cert-manager creates the Secret');
  });

  t.test('the example opts in and would be selected by the webhook', async (t) => {
    const mwc = one(selfManaged, 'MutatingWebhookConfiguration').webhooks[0];
    const ns = one(examples, 'Namespace');
    const deploy = one(examples, 'Deployment');
    t.equal(deploy.metadata.namespace, ns.metadata.name);
    for (const e of mwc.namespaceSelector.matchExpressions) {
      const value = e.key === 'kubernetes.io/metadata.name' ? ns.metadata.name : ns.metadata.labels[e.key];
      t.equal(e.values.includes(value), e.operator === 'In', `namespace meets ${e.key} ${e.operator}`);
    }
    const annotations = deploy.spec.template.metadata.annotations;
    t.equal(annotations['hybrid-secrets.io/inject'], 'true');
    const names = deploy.spec.template.spec.containers.map((c: Obj) => c.name);
    t.ok(names.length > 1, 'more than one container, so targeting is visible');
    for (const c of annotations['hybrid-secrets.io/containers'].split(',')) t.ok(names.includes(c.trim()), `container ${c} exists`);
    const secrets = Object.keys(annotations).filter((k) => k.startsWith('hybrid-secrets.io/secret-'));
    t.ok(secrets.length >= 2, 'several files');
    const envs = Object.keys(annotations).filter((k) => k.startsWith('hybrid-secrets.io/env-'));
    t.ok(envs.length >= 1, 'an env var');
    for (const env of envs) t.ok(secrets.includes(env.replace('/env-', '/secret-')), `${env} names a declared secret`);
    const store = one(examples, 'ClusterSecretStore');
    t.equal(store.metadata.name, annotations['hybrid-secrets.io/store']);
    t.equal(store.apiVersion, 'external-secrets.io/v1');
  });

  t.test('the checks catch broken manifests', async (t) => {
    const cases: [string, Obj[], (o: Obj[]) => string[], RegExp][] = [];
    const broken = (name: string, mutate: (o: Obj[]) => void, check: (o: Obj[]) => string[], expected: RegExp): void => {
      const objects = clone(selfManaged);
      mutate(objects);
      cases.push([name, objects, check, expected]);
    };
    const pod = (o: Obj[]): Obj => one(o, 'Deployment').spec.template.spec;
    const rbac = (o: Obj[]): string[] => checkRbac(o, 'tls-auto');
    const webhook = (o: Obj[]): Obj => one(o, 'MutatingWebhookConfiguration').webhooks[0];
    broken('one replica', (o) => { one(o, 'Deployment').spec.replicas = 1; }, checkWorkload, /replicas 1 < 2/);
    broken('root', (o) => { pod(o).securityContext.runAsUser = 0; }, checkWorkload, /runAsUser is not a numeric non-root/);
    broken('named user', (o) => { pod(o).containers[0].securityContext.runAsUser = 'nobody'; }, checkWorkload, /runAsUser is not numeric/);
    broken('writable root', (o) => { pod(o).containers[0].securityContext.readOnlyRootFilesystem = false; }, checkWorkload, /root filesystem is writable/);
    broken('escalation', (o) => { delete pod(o).containers[0].securityContext.allowPrivilegeEscalation; }, checkWorkload, /privilege escalation/);
    broken('capabilities', (o) => { pod(o).containers[0].securityContext.capabilities.drop = ['NET_RAW']; }, checkWorkload, /drop ALL/);
    broken('seccomp', (o) => {
      delete pod(o).securityContext.seccompProfile;
      delete pod(o).containers[0].securityContext.seccompProfile;
    }, checkWorkload, /seccompProfile/);
    broken('no spread', (o) => { delete pod(o).topologySpreadConstraints; delete pod(o).affinity; }, checkWorkload, /spread or anti-affinity/);
    broken('HTTP probe', (o) => { pod(o).containers[0].readinessProbe.httpGet.scheme = 'HTTP'; }, checkWorkload, /readinessProbe/);
    broken('no limits', (o) => { delete pod(o).containers[0].resources.limits; }, checkWorkload, /memory limit/);
    broken('PDB elsewhere', (o) => { one(o, 'PodDisruptionBudget').spec.selector.matchLabels = { app: 'x' }; }, checkWorkload, /PodDisruptionBudget/);
    broken('all secrets', (o) => { one(o, 'Role', 'hybrid-secrets-tls').rules[0].resourceNames = undefined; }, rbac, /Secrets without resourceNames/);
    broken('list secrets', (o) => { one(o, 'Role', 'hybrid-secrets-tls').rules[0].verbs.push('list'); }, rbac, /on Secrets/);
    broken('cluster secrets', (o) => {
      one(o, 'ClusterRole', 'hybrid-secrets').rules.push({ apiGroups: [''], resources: ['secrets'], resourceNames: ['hybrid-secrets-tls'], verbs: ['get'] });
    }, rbac, /Secrets outside/);
    broken('wildcard', (o) => { one(o, 'ClusterRole', 'hybrid-secrets').rules[0].verbs = ['*']; }, rbac, /wildcard/);
    broken('pod writes', (o) => { one(o, 'ClusterRole', 'hybrid-secrets').rules[2].verbs.push('patch'); }, rbac, /writes on pods/);
    broken('any webhook', (o) => { delete one(o, 'ClusterRole', 'hybrid-secrets-tls').rules[0].resourceNames; }, rbac, /webhook configurations other/);
    broken('unbound', (o) => { one(o, 'RoleBinding', 'hybrid-secrets-tls').roleRef.name = 'other'; }, rbac, /bound to no ServiceAccount/);
    broken('side effects', (o) => { webhook(o).sideEffects = 'None'; }, checkWebhookConfiguration, /sideEffects is None/);
    broken('reinvocation', (o) => { delete webhook(o).reinvocationPolicy; }, checkWebhookConfiguration, /reinvocationPolicy/);
    broken('own namespace', (o) => { webhook(o).namespaceSelector.matchExpressions.pop(); }, checkWebhookConfiguration, /exclude the webhook's namespace/);
    broken('no opt-in', (o) => { webhook(o).namespaceSelector.matchExpressions.shift(); }, checkWebhookConfiguration, /hybrid-secrets.io\/injection=enabled/);
    broken('unguarded CEL', (o) => {
      webhook(o).matchConditions[0].expression = `object.metadata.annotations['hybrid-secrets.io/inject'] == 'true'`;
    }, checkWebhookConfiguration, /without has\(\)\/in guards/);
    broken('no timeout', (o) => { delete webhook(o).timeoutSeconds; }, checkWebhookConfiguration, /timeoutSeconds/);
    broken('caBundle', (o) => { webhook(o).clientConfig.caBundle = 'AAAA'; }, checkWebhookConfiguration, /caBundle/);
    broken('update too', (o) => { webhook(o).rules[0].operations.push('UPDATE'); }, checkWebhookConfiguration, /CREATE on core pods/);
    for (const [name, objects, check, expected] of cases) {
      t.match(check(objects).join('\n'), expected, name);
    }
    const cm = clone(certManager);
    cm.push({ ...structuredClone(one(selfManaged, 'Role', 'hybrid-secrets-tls')) });
    t.match(checkRbac(cm, 'cert-manager').join('\n'), /Secret access it does not need/, 'cert-manager mode needs no Secret access');
  });

  t.test('every flag the manifests pass is one `serve` knows', async (t) => {
    const help = execFileSync(process.execPath, ['src/cli.ts', 'serve', '--help'], { cwd: repoRoot, encoding: 'utf8' });
    const known = new Set(help.match(/--[a-z][a-z-]*/g));
    for (const [mode, objects] of [['tls-auto', selfManaged], ['cert-manager', certManager]] as const) {
      for (const arg of webhookContainer(objects).args as string[]) {
        const flag = arg.split('=')[0]!;
        t.ok(known.has(flag), `${mode}: ${flag}`);
      }
    }
  });

  t.test('CEL guard check', async (t) => {
    const key = `'hybrid-secrets.io/inject'`;
    t.ok(celGuardsAnnotation(`has(object.metadata.annotations) && ${key} in object.metadata.annotations && object.metadata.annotations[${key}] == 'true'`));
    t.notOk(celGuardsAnnotation(`object.metadata.annotations[${key}] == 'true' && has(object.metadata.annotations)`), 'guard after the index');
    t.notOk(celGuardsAnnotation(`has(object.metadata.annotations) || object.metadata.annotations[${key}] == 'true'`), 'or instead of and');
  });
}
