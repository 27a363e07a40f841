// A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost, made with
// openssl in a temporary directory, for a TLS-enabled redis-server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type TestCertificates = {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  remove(): void;
};

export const createTestCertificates = (): TestCertificates => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-tls-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=mm test CA'],
    ...['-keyout', at('ca.key'), '-out', at('ca.crt')],
  );
  openssl(
    ...['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'],
    ...['-keyout', at('server.key'), '-out', at('server.csr')],
  );
  writeFileSync(at('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  openssl(
    ...['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key')],
    ...['-CAcreateserial', '-days', '1', '-extfile', at('server.ext'), '-out', at('server.crt')],
  );
  return {
    caFile: at('ca.crt'),
    certFile: at('server.crt'),
    keyFile: at('server.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
};
