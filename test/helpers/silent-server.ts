// A TCP server that accepts connections and records what it receives but never answers: a Redis
// whose handshake never completes, for tests of deadlines and of what is (not) sent.
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from './free-port.ts';

export type SilentServer = {
  readonly port: number;
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Everything received, as text. */
  wire(): string;
  close(): Promise<void>;
};

export const startSilentServer = async (): Promise<SilentServer> => {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const received: Buffer[] = [];
  const server: Server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connections: () => accepted,
    wire: () => Buffer.concat(received).toString('latin1'),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
