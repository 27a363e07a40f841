// A Postgres that asks for a password and refuses it, as a server with `password` auth in pg_hba.conf
// does (the machine's server trusts every local connection, so it cannot show a wrong password).
import { createServer, type Socket } from 'node:net';
import { freePort } from './free-port.ts';

export type RefusingPostgres = { readonly port: number; readonly url: string; close(): Promise<void> };

const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

const int32 = (value: number): Buffer => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

// ErrorResponse fields as Postgres sends them for a failed password check.
const refusal = (user: string): Buffer =>
  message(
    'E',
    Buffer.from(
      `SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "${user}"\0Rauth_failed\0\0`,
      'utf8',
    ),
  );

export const startRefusingPostgres = async (): Promise<RefusingPostgres> => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let startup = true;
    socket.on('data', (chunk) => {
      if (startup) {
        startup = false;
        // AuthenticationCleartextPassword: the client answers with a PasswordMessage ('p').
        socket.write(message('R', int32(3)));
        return;
      }
      if (chunk[0] === 'p'.charCodeAt(0)) socket.end(refusal('root'));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    url: `postgres://root:not-the-password@127.0.0.1:${port}/mm`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
};
