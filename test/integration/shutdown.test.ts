// SIGTERM with reviews in flight, against the real `serve` process: reviews already received are
// answered, idle keep-alive connections are closed, new connections are refused, exit code 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { CLI, EXAMPLE_REVIEWS, EXAMPLE_STORES, tlsDirectory } from './fixtures/https.ts';

const IN_FLIGHT = 5;
// Starting a Node process is slow on a busy machine; this bounds the test, it measures nothing.
t.setTimeout(120_000);

t.test('SIGTERM drains in-flight reviews and exits 0', async (t) => {
  const files = await tlsDirectory();
  t.teardown(() => files.remove());
  const ca = files.certificates.ca.certPem;
  const env = { ...process.env };
  delete env.KUBECONFIG;
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--stores', EXAMPLE_STORES, '--tls-cert-file', files.certFile, '--tls-key-file', files.keyFile, '--host', '127.0.0.1', '--port', '0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const logLines = createInterface({ input: child.stdout });
  const logged = (message: string): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const onLine = (line: string): void => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === message) {
          logLines.off('line', onLine);
          resolve(entry);
        }
      };
      logLines.on('line', onLine);
    });

  const serving = await Promise.race([
    logged('serving admission reviews'),
    exited.then(() => {
      throw new Error(`serve exited early: ${stderr}`);
    }),
  ]);
  const port = serving.port as number;
  const open = async (): Promise<TLSSocket> => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    await once(socket, 'secureConnect');
    return socket;
  };

  // An idle keep-alive connection: one request answered, socket left open.
  const idle = await open();
  const idleClosed = once(idle, 'close');
  idle.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await receivedText(idle, '{"status":"ok"}');

  // Reviews in flight: the server has read their headers (it sent 100 Continue) but not their bodies.
  const template = JSON.parse(await readFile(`${EXAMPLE_REVIEWS}pod-create.json`, 'utf8'));
  const inFlight = await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, index) => {
      const body = JSON.stringify({ ...template, request: { ...template.request, uid: `in-flight-${index}` } });
      const socket = await open();
      const everything = collect(socket);
      socket.write(
        `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
      );
      await receivedText(socket, 'HTTP/1.1 100 Continue');
      return { socket, body, everything };
    }),
  );

  child.kill('SIGTERM');
  await logged('shutting down: finishing in-flight reviews');
  await idleClosed;
  t.pass('the idle keep-alive connection was closed');
  // The listening socket's fd is released on a later event-loop turn than the idle connections
  // are closed, so a connection can still land in the kernel's backlog and be reset; the listener
  // must close right after, and from then on connections are refused.
  let refusal: NodeJS.ErrnoException | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const refused = connect({ host: '127.0.0.1', port, servername: 'localhost', ca });
    [refusal] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    if (refusal.code !== 'ECONNRESET') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(refusal?.code, 'ECONNREFUSED', 'new connections are refused');

  // write, not end: the server, not the client, must close these connections.
  for (const { socket, body } of inFlight) socket.write(body);
  const answers = await Promise.all(inFlight.map(({ everything }) => everything));
  answers.forEach((raw, index) => {
    const final = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
    t.match(final, /^HTTP\/1\.1 200 /, `in-flight review ${index} answered`);
    t.match(final, /\r\n[Cc]onnection: close\r\n/, 'and its connection closed after');
    const review = JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4));
    t.equal(review.response.uid, `in-flight-${index}`);
    t.equal(review.response.allowed, true);
  });

  const [code, signal] = await exited;
  t.equal(signal, null);
  t.equal(code, 0, 'exit code 0');
});

/** Resolves once `text` has arrived on the socket. */
function receivedText(socket: TLSSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection. */
function collect(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
