// Serves a Hono app over node:http (also what Deno's Node compatibility provides).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { ConfigError, coerceError, TransientError } from '../core/errors.ts';

export type HttpServer = { readonly port: number; readonly url: string; close(): Promise<void> };

// A client that trickles its headers or body must not hold a connection (and a socket) for ever.
// Node checks these deadlines every `connectionsCheckingInterval` ms (30 s by default).
export const serverTimeouts = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  connectionsCheckingInterval: 1_000,
} as const;

/** Why the listener could not start, as an error whose code says how to exit (69 or 78). */
const listenError = (thrown: unknown, where: string): Error => {
  const error = coerceError(thrown);
  switch ((error as { code?: unknown }).code) {
    case 'EADDRINUSE':
      return new TransientError(`cannot listen on ${where}: the address is in use by another process`, {
        cause: error,
      });
    case 'EACCES':
      return new ConfigError([
        `not allowed to listen on ${where} (ports below 1024 need privileges): check --port`,
      ]);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new ConfigError([`cannot listen on ${where}: no such address on this machine: check --host`]);
    default:
      return error;
  }
};

export const serveHttp = (app: Hono, options: { host: string; port: number }): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: options.host, port: options.port, serverOptions: serverTimeouts },
      (info: AddressInfo) => {
        resolve({
          port: info.port,
          url: `http://${options.host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Keep-alive connections would hold close() open; they carry no in-flight work here.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    server.once('error', (error) => reject(listenError(error, `${options.host}:${options.port}`)));
  });
