// A bare RESP connection for the hot paths: the relay's bulk XADDs and the consumer's blocked
// XREADGROUP. ioredis builds an object, a promise and a write per command and a Buffer per reply
// element, which costs more than Redis spends running them; here a batch is one buffer and one
// write, and replies are parsed straight into strings (resp-reader.ts). Everything else stays on
// ioredis.
import { connect, isIP, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { TransientError } from '../../core/errors.ts';
import { createRespReader, isReplyError, type RespReply } from './resp-reader.ts';

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

/** A connection being opened: dropping the pipe meanwhile abandons it, so nothing is sent on it. */
type Opening = {
  readonly ready: Promise<Socket>;
  abandon(reason: string): void;
};

const outage = (reason: string): TransientError =>
  new TransientError(`Redis unavailable: ${reason}`, { dependency: 'redis' });

// What Redis answers AUTH when it has no password set; ioredis warns and carries on, and so do we.
const noPasswordConfigured = /without any password configured/;

export const createRespPipe = (options: RespPipeOptions): RespPipe => {
  let socket: Socket | undefined;
  let opening: Opening | undefined;
  const reader = createRespReader();
  let pending: Pending | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const fail = (reason: string): void => {
    const dead = socket;
    socket = undefined;
    const abandoned = opening;
    opening = undefined;
    reader.reset();
    dead?.destroy();
    abandoned?.abandon(reason);
    const waiting = pending;
    pending = undefined;
    waiting?.reject(outage(reason));
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
    replies.forEach((reply, i) => {
      if (!isReplyError(reply)) return;
      if (commands[i]?.[0] === 'AUTH' && noPasswordConfigured.test(reply.error)) return;
      throw outage(`refused the connection: ${reply.error}`);
    });
  };

  const open = (): Promise<Socket> => {
    if (opening) return opening.ready;
    const address = options.path ? { path: options.path } : { host: options.host, port: options.port };
    // An IP address is no server name (Node warns when given one).
    const serverName = isIP(options.host) === 0 ? { servername: options.host } : {};
    const target = options.tls ? tlsConnect({ ...serverName, ...options.tls, ...address }) : connect(address);
    let settle: { resolve(socket: Socket): void; reject(error: Error): void } | undefined;
    const ready = new Promise<Socket>((resolve, reject) => {
      settle = { resolve, reject };
    });
    ready.catch(() => {}); // the sender awaiting it sees the failure
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      if (opening?.ready === ready) opening = undefined;
      if (error) {
        target.destroy();
        settle?.reject(error);
      } else settle?.resolve(target);
    };
    const connectTimer = setTimeout(() => finish(outage('connect timed out')), options.timeoutMs);
    opening = { ready, abandon: (reason) => finish(outage(reason)) };
    target.once('error', (error) => finish(outage(error.message)));
    target.once(options.tls ? 'secureConnect' : 'connect', () => {
      if (done) return;
      target.setNoDelay(true);
      target.on('data', onData);
      target.on('error', (error) => {
        if (socket === target) fail(error.message);
      });
      target.on('close', () => {
        if (socket === target) fail('connection closed');
      });
      socket = target;
      handshake(target).then(
        () => finish(),
        (error: Error) => {
          finish(error);
          if (socket === target) fail(error.message);
        },
      );
    });
    return ready;
  };

  return {
    send: (payload, replies, timeoutMs) => {
      const run = async (): Promise<RespReply[]> => {
        if (closed) throw outage('connection closed');
        const target = socket ?? (await open());
        // Dropped or closed while connecting: nothing may be sent on its behalf.
        if (closed || target !== socket) throw outage('connection dropped');
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
