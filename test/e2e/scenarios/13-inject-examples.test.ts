// `hybrid-secrets inject` output for every example is valid Kubernetes: the real API server,
// with the upstream CRDs, accepts all of it in a server-side dry run.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cluster } from '../harness/cluster.ts';
import { run } from '../harness/kubectl.ts';
import { repoRoot } from '../harness/webhook.ts';

const examplesDir = join(repoRoot, 'examples');
const storesFile = join(examplesDir, 'stores.yaml');

interface Doc {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  items?: Doc[];
}

function documents(yamlText: string): Doc[] {
  const docs = parseAllDocuments(yamlText)
    .map((doc) => doc.toJS() as Doc | null)
    .filter((doc): doc is Doc => doc !== null);
  return docs.flatMap((doc) => (doc.kind === 'List' ? (doc.items ?? []) : [doc]));
}

t.test('inject output for examples/ passes kubectl apply --dry-run=server', async (t) => {
  const kube = cluster();
  const examples = readdirSync(examplesDir)
    .filter((file) => /\.ya?ml$/.test(file) && file !== 'stores.yaml')
    .sort();
  t.ok(examples.length > 0, `examples: ${examples.join(', ')}`);

  // Namespaces the examples live in must exist, as they would in a real cluster.
  const namespaces = new Set<string>();
  for (const file of [...examples, 'stores.yaml']) {
    for (const doc of documents(readFileSync(join(examplesDir, file), 'utf8'))) {
      if (doc.metadata?.namespace !== undefined) namespaces.add(doc.metadata.namespace);
      if (doc.kind === 'Namespace' && doc.metadata?.name !== undefined) namespaces.add(doc.metadata.name);
    }
  }
  for (const namespace of namespaces) {
    const created = await kube.kubectl(['create', 'namespace', namespace, '--save-config']);
    if (created.code === 0) t.teardown(async () => void (await kube.kubectl(['delete', 'namespace', namespace, '--wait=false'])));
  }

  const stores = await kube.kubectl(['apply', '--dry-run=server', '-f', storesFile]);
  t.equal(stores.code, 0, `examples/stores.yaml is accepted ${stores.stderr}`);

  for (const file of examples) {
    const injected = await run(process.execPath, [join(repoRoot, 'src', 'cli.ts'), 'inject', '-f', join(examplesDir, file), '--stores', storesFile], {
      cwd: repoRoot,
    });
    t.equal(injected.code, 0, `inject -f examples/${file} succeeds ${injected.stderr}`);
    const docs = documents(injected.stdout);
    const kinds = docs.map((doc) => doc.kind);
    t.ok(kinds.includes('ExternalSecret') && kinds.includes('SecretProviderClass'), `${file}: output holds the generated objects (${kinds.join(', ')})`);

    const applied = await kube.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: injected.stdout });
    t.equal(applied.code, 0, `${file}: the API server accepts every document ${applied.stderr}`);
    const accepted = applied.stdout.split('\n').filter((line) => line.endsWith('(server dry run)'));
    t.equal(accepted.length, docs.length, `${file}: ${docs.length} documents accepted`);
  }
});
