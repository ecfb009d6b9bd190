#!/usr/bin/env node
// hybrid-secrets command line: `serve` (the webhook), `inject` (offline), `certs` (dev TLS).
import { runCerts } from './cli/certs.ts';
import { runInject } from './cli/inject.ts';
import { runServe } from './cli/serve.ts';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, Command> = { serve: runServe, inject: runInject, certs: runCerts };

const usage = `usage: hybrid-secrets <command> [flags]

commands:
  serve    run the admission webhook (HTTPS)
  inject   render what the webhook would do to manifests, offline
  certs    generate a CA and a serving certificate for local use

Run 'hybrid-secrets <command> --help' for a command's flags.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`hybrid-secrets: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  return command(rest);
}

process.exitCode = await main(process.argv.slice(2));
