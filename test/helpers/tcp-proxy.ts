// A TCP proxy a test can take down and bring back, to make a dependency (Postgres) unreachable for
// one process without touching the machine's server.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.ts';

export type TcpProxy = {
  readonly port: number;
  /** Stops listening and cuts every open connection: clients see resets, then refusals. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
};

export type TcpProxyOptions = {
  /** Runs before each chunk the client sent is forwarded (in order): a fault injected at a chosen step. */
  readonly beforeForward?: (chunk: Buffer) => Promise<void>;
};

export const startTcpProxy = async (
  target: { host: string; port: number },
  options: TcpProxyOptions = {},
): Promise<TcpProxy> => {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        if (options.beforeForward) {
          const beforeForward = options.beforeForward;
          let forwarding = Promise.resolve();
          client.on('data', (chunk: Buffer) => {
            forwarding = forwarding.then(() => beforeForward(chunk)).then(() => void upstream.write(chunk));
          });
        } else {
          client.pipe(upstream);
        }
        upstream.pipe(client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        resolve();
      });
    });
  const down = async (): Promise<void> => {
    const running = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
  };
  await listen();
  return { port, down, up: listen, close: down };
};
