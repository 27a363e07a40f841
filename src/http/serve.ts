// Serves a Hono app over node:http (also what Deno's Node compatibility provides).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export type HttpServer = { readonly port: number; readonly url: string; close(): Promise<void> };

export const serveHttp = (app: Hono, options: { host: string; port: number }): Promise<HttpServer> =>
  new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: options.host, port: options.port },
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
    server.once('error', reject);
  });
