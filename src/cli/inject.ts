// `hybrid-secrets inject`: what the webhook would do to manifests, offline (for GitOps pipelines
// and for reviewing a change before it reaches a cluster).
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import { isDnsLabel } from '../contract/rules.ts';
import type { InjectionConfig } from '../core/types.ts';
import { injectManifests } from '../manifests/inject.ts';
import { parseStoreCatalog } from '../stores/catalog.ts';
import { writeFileAtomically } from './files.ts';
import { parseCommandFlags, UsageError } from './flags.ts';
import { INJECTION_FLAG_OPTIONS, INJECTION_FLAG_USAGE, injectionConfigFromFlags } from './injection-flags.ts';

const USAGE = `usage: hybrid-secrets inject -f <file|-> --stores <file> [flags]

Renders what the webhook does: mutates every pod template that opts in with
hybrid-secrets.io/inject: "true" (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
CronJob, and kind: List) and appends the ExternalSecret and SecretProviderClass documents it
needs. Other documents are copied unchanged. Running it on its own output changes nothing.

flags:
  -f, --filename <file|->         manifests to read; - reads standard input (required)
      --stores <file>             SecretStore, ClusterSecretStore and Namespace documents (required);
                                  Namespace labels are matched against ClusterSecretStore conditions
  -o, --output <file>             write here (atomically) instead of standard output
      --namespace <ns>            namespace of documents that set none (default: default)
${INJECTION_FLAG_USAGE}
  -h, --help                      show this help

Exit status: 0 on success, 1 when an input is invalid (every problem is printed as
<file>: document <n> (<Kind>/<name>): <field>: <message>, documents counted from 1, and no
output is written), 2 on a usage error.`;

interface InjectFlags {
  readonly filename: string;
  readonly stores: string;
  readonly output?: string;
  readonly namespace: string;
  readonly config: InjectionConfig;
}

function parseFlags(argv: string[]): InjectFlags | 'help' {
  const values = parseCommandFlags(argv, {
    filename: { type: 'string', short: 'f' },
    stores: { type: 'string' },
    output: { type: 'string', short: 'o' },
    namespace: { type: 'string' },
    ...INJECTION_FLAG_OPTIONS,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  if (values.filename === undefined || values.filename === '') throw new UsageError('-f/--filename is required');
  if (values.stores === undefined || values.stores === '') throw new UsageError('--stores is required');
  const namespace = values.namespace ?? 'default';
  if (!isDnsLabel(namespace)) throw new UsageError(`--namespace '${namespace}' is not a namespace name`);

  let config: InjectionConfig;
  try {
    config = injectionConfigFromFlags(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    filename: values.filename,
    stores: values.stores,
    ...(values.output !== undefined && { output: values.output }),
    namespace,
    config,
  };
}

export async function runInject(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`hybrid-secrets inject: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags === 'help') {
    console.log(USAGE);
    return 0;
  }

  const inputLabel = flags.filename === '-' ? '<stdin>' : flags.filename;
  let storesText: string;
  let source: string;
  try {
    storesText = await readFile(flags.stores, 'utf8');
    source = flags.filename === '-' ? await readStream(process.stdin) : await readFile(flags.filename, 'utf8');
  } catch (error) {
    console.error(`hybrid-secrets inject: ${(error as Error).message}`);
    return 1;
  }

  const stores = parseStoreCatalog(storesText, flags.stores, { defaultNamespace: flags.namespace });
  if (!stores.ok) {
    console.error(stores.errors.join('\n'));
    return 1;
  }
  const result = injectManifests(source, stores.catalog, flags.config, { file: inputLabel, namespace: flags.namespace });
  if (result.warnings.length > 0) console.error(result.warnings.join('\n'));
  if (!result.ok) {
    console.error(result.errors.join('\n'));
    return 1;
  }
  try {
    if (flags.output === undefined) await writeStdout(result.output);
    else await writeFileAtomically(flags.output, result.output, 0o644);
  } catch (error) {
    console.error(`hybrid-secrets inject: cannot write the output: ${(error as Error).message}`);
    return 1;
  }
  return 0;
}

/** Write to a temporary file beside the target, then rename: readers never see half a file. */

function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
