// A bare RESP connection for the hot paths: the relay's bulk XADDs and the consumer's blocked
// XREADGROUP. ioredis builds an object, a promise and a write per command and a Buffer per reply
// element, which costs more than Redis spends running them; here a batch is one buffer and one
// write, and replies are parsed straight into strings (resp-reader.ts). Everything else stays on
// ioredis.
import { connect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { TransientError } from '../../core/errors.ts';
import { createRespReader, type RespReply } from './resp-reader.ts';

export type { RespReply } from './resp-reader.ts';

export type RespPipeOptions = {
  readonly host: string;
  readonly port: number;
  /** A Unix socket, used instead of host and port when set. */
  readonly path?: string | null | undefined;
  readonly username?: string | null | undefined;
  readonly password?: string | null | undefined;
  readonly db?: number | null | undefined;
  /** TLS settings (certificates, server name) as ioredis was given them; absent for plain TCP. */
  readonly tls?: ConnectionOptions | undefined;
  /** A batch without every reply this long after it was sent counts as an outage (unless `send` says otherwise). */
  readonly timeoutMs: number;
};

export type RespPipe = {
  /** Writes pre-encoded commands and resolves with their replies, in order. */
  send(payload: Buffer, replies: number, timeoutMs?: number): Promise<RespReply[]>;
  /** Drops the connection: a batch in flight fails as an outage and is never sent again. */
  drop(reason: string): void;
  close(): void;
};

/** One command as a RESP array of bulk strings. */
export const encodeCommand = (args: readonly string[]): string => {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
};

type Pending = {
  resolve(replies: RespReply[]): void;
  reject(error: Error): void;
};

export const createRespPipe = (options: RespPipeOptions): RespPipe => {
  let socket: Socket | undefined;
  let opening: Promise<Socket> | undefined;
  const reader = createRespReader();
  let pending: Pending | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const fail = (reason: string): void => {
    const dead = socket;
    socket = undefined;
    opening = undefined;
    reader.reset();
    dead?.destroy();
    const waiting = pending;
    pending = undefined;
    waiting?.reject(new TransientError(`Redis unavailable: ${reason}`, { dependency: 'redis' }));
  };

  const onData = (chunk: Buffer): void => {
    let replies: RespReply[] | undefined;
    try {
      replies = reader.push(chunk);
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    const waiting = pending;
    if (!replies || !waiting) return;
    pending = undefined;
    waiting.resolve(replies);
  };

  const roundTrip = (
    target: Socket,
    payload: Buffer,
    expected: number,
    timeoutMs = options.timeoutMs,
  ): Promise<RespReply[]> =>
    new Promise<RespReply[]>((resolve, reject) => {
      const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
      reader.expect(expected);
      pending = {
        resolve: (replies) => {
          clearTimeout(timer);
          resolve(replies);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      target.write(payload);
    });

  const handshake = async (target: Socket): Promise<void> => {
    const commands: string[][] = [];
    if (options.password) {
      commands.push(
        options.username ? ['AUTH', options.username, options.password] : ['AUTH', options.password],
      );
    }
    if (options.db) commands.push(['SELECT', String(options.db)]);
    if (commands.length === 0) return;
    const replies = await roundTrip(
      target,
      Buffer.from(commands.map(encodeCommand).join('')),
      commands.length,
    );
    const refused = replies.find((reply) => typeof reply !== 'string');
    if (refused) {
      const reason = (refused as { error: string }).error;
      throw new TransientError(`Redis unavailable: refused the connection: ${reason}`, {
        dependency: 'redis',
      });
    }
  };

  const open = (): Promise<Socket> => {
    opening ??= new Promise<Socket>((resolve, reject) => {
      const address = options.path ? { path: options.path } : { host: options.host, port: options.port };
      const target = options.tls
        ? tlsConnect({ servername: options.host, ...options.tls, ...address })
        : connect(address);
      const onFailure = (error: Error): void => {
        opening = undefined;
        target.destroy();
        reject(new TransientError(`Redis unavailable: ${error.message}`, { dependency: 'redis' }));
      };
      const connectTimer = setTimeout(() => onFailure(new Error('connect timed out')), options.timeoutMs);
      target.once('error', onFailure);
      target.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(connectTimer);
        target.removeListener('error', onFailure);
        target.setNoDelay(true);
        target.on('data', onData);
        target.on('error', (error) => fail(error.message));
        target.on('close', () => {
          if (socket === target) fail('connection closed');
        });
        socket = target;
        handshake(target).then(
          () => resolve(target),
          (error: Error) => {
            fail(error.message);
            opening = undefined;
            reject(error);
          },
        );
      });
    });
    return opening;
  };

  return {
    send: (payload, replies, timeoutMs) => {
      const run = async (): Promise<RespReply[]> => {
        if (closed) throw new TransientError('Redis unavailable: connection closed', { dependency: 'redis' });
        const target = socket ?? (await open());
        return roundTrip(target, payload, replies, timeoutMs);
      };
      // One batch on the wire at a time, so replies always belong to the batch waiting for them.
      const result = queue.then(run, run);
      queue = result.catch(() => {});
      return result;
    },
    drop: fail,
    close: () => {
      closed = true;
      fail('connection closed');
    },
  };
};

/** `XADD key * field value ...` for each entry, as one buffer. */
export const encodeXadds = (
  entries: ReadonlyArray<{ readonly key: string; readonly fields: Readonly<Record<string, string>> }>,
): Buffer => {
  // One string per command, written into a buffer of the exact size: a single string for the whole
  // batch would be a rope of thousands of pieces, flattened and copied once more to encode it.
  const commands: string[] = new Array(entries.length);
  let size = 0;
  for (let i = 0; i < entries.length; i += 1) {
    const entry = entries[i] as (typeof entries)[number];
    let count = 3;
    let body = '';
    for (const name in entry.fields) {
      const value = entry.fields[name] as string;
      body += `$${Buffer.byteLength(name)}\r\n${name}\r\n$${Buffer.byteLength(value)}\r\n${value}\r\n`;
      count += 2;
    }
    const command = `*${count}\r\n$4\r\nXADD\r\n$${Buffer.byteLength(entry.key)}\r\n${entry.key}\r\n$1\r\n*\r\n${body}`;
    commands[i] = command;
    size += Buffer.byteLength(command);
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const command of commands) at += out.write(command, at);
  return out;
};
