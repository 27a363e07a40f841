// The forms of REDIS_URL: one server (`redis://`, `rediss://`), a Redis Cluster by its seed nodes
// (`redis+cluster://`, `rediss+cluster://`) or a master found through Sentinel (`redis+sentinel://`).
// Parsed here, once, so every binary accepts the same forms and names the same problems; problems
// name hosts, never credentials.

export type RedisNode = { readonly host: string; readonly port: number };

type Credentials = { readonly username?: string; readonly password?: string };

export type RedisTarget =
  /** One server: ioredis reads the URL itself. */
  | { readonly kind: 'single'; readonly url: string }
  | ({ readonly kind: 'cluster'; readonly nodes: readonly RedisNode[]; readonly tls: boolean } & Credentials)
  | ({
      readonly kind: 'sentinel';
      readonly sentinels: readonly RedisNode[];
      /** The master's name as the sentinels know it. */
      readonly name: string;
      readonly db: number;
    } & Credentials);

export const REDIS_URL_FORMS =
  'redis://host:port[/db] (rediss:// for TLS), redis+cluster://host:port,host:port (rediss+cluster:// for TLS) or redis+sentinel://host:port,host:port/<master-name>[/db], with user:password@ before the hosts where needed';

/** Whether the text starts like one of the forms (the rest is checked when the client opens). */
export const hasRedisScheme = (raw: string): boolean =>
  /^(redis|rediss|redis\+cluster|rediss\+cluster|redis\+sentinel):\/\/./i.test(raw);

export type ParsedRedisUrl = { readonly target: RedisTarget } | { readonly problem: string };

const DEFAULT_PORT = 6379;
const DEFAULT_SENTINEL_PORT = 26379;

const decode = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
};

/** `host:port`, `host` (default port) or `[::1]:port`. */
const parseNode = (text: string, defaultPort: number): RedisNode | undefined => {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
};

const parseCredentials = (userinfo: string | undefined): Credentials | undefined => {
  if (userinfo === undefined) return {};
  const at = userinfo.indexOf(':');
  const username = decode(at < 0 ? userinfo : userinfo.slice(0, at));
  const password = at < 0 ? '' : decode(userinfo.slice(at + 1));
  if (username === undefined || password === undefined) return undefined;
  return {
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
  };
};

const single = (raw: string): ParsedRedisUrl => {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return {
      problem: raw.includes(',')
        ? 'a redis:// URL names one host: several need redis+cluster:// or redis+sentinel://'
        : 'it is not a URL',
    };
  }
  const fromPath = parsed.pathname.replace(/^\//, '');
  const db = parsed.searchParams.get('db') ?? fromPath;
  if (db !== '' && !/^\d+$/.test(db)) {
    return { problem: `the database "${db}" for Redis at ${parsed.host} is not a number` };
  }
  return { target: { kind: 'single', url: raw } };
};

/** What the URL names, or why it names nothing (never quoting the password). */
export const parseRedisUrl = (raw: string): ParsedRedisUrl => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') return single(raw);
  if (scheme !== 'redis+cluster' && scheme !== 'rediss+cluster' && scheme !== 'redis+sentinel') {
    return { problem: `the scheme "${scheme ?? ''}" is none of ${REDIS_URL_FORMS}` };
  }
  const rest = raw.slice(scheme.length + 3);
  if (/[?#]/.test(rest)) return { problem: `a ${scheme}:// URL takes no ?options or #fragment` };
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const credentials = parseCredentials(at < 0 ? undefined : authority.slice(0, at));
  if (!credentials) return { problem: `the credentials of the ${scheme}:// URL are not percent-encoded` };
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const defaultPort = scheme === 'redis+sentinel' ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT;
  const hosts = hostList.split(',').map((text) => text.trim());
  const nodes = hosts.map((text) => parseNode(text, defaultPort));
  const badAt = nodes.indexOf(undefined);
  if (hostList === '' || badAt >= 0) {
    return {
      problem: `a ${scheme}:// URL needs host:port pairs separated by commas, got "${hostList === '' ? '' : hosts[badAt]}"`,
    };
  }
  const seeds = nodes as RedisNode[];
  if (scheme !== 'redis+sentinel') {
    if (path !== '' && path !== '0') {
      return {
        problem: `the ${scheme}:// URL names the database "${path}": a Redis Cluster has database 0 only`,
      };
    }
    return { target: { kind: 'cluster', nodes: seeds, tls: scheme === 'rediss+cluster', ...credentials } };
  }
  const [name, db, ...extra] = path.split('/');
  const master = decode(name ?? '');
  if (!master) {
    return {
      problem:
        'a redis+sentinel:// URL needs the master name after the hosts: redis+sentinel://host:port/<master-name>[/db]',
    };
  }
  if (extra.length > 0 || (db !== undefined && db !== '' && !/^\d+$/.test(db))) {
    return {
      problem: `the database "${path.slice((name?.length ?? 0) + 1)}" for the master "${master}" is not a number`,
    };
  }
  return {
    target: { kind: 'sentinel', sentinels: seeds, name: master, db: db ? Number(db) : 0, ...credentials },
  };
};

/** The hosts a target names, for messages (no credentials). */
export const describeRedisTarget = (target: RedisTarget): string => {
  const list = (nodes: readonly RedisNode[]): string =>
    nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  switch (target.kind) {
    case 'single': {
      const parsed = URL.canParse(target.url) ? new URL(target.url) : undefined;
      return `Redis at ${parsed ? parsed.host || parsed.pathname : 'the URL'}`;
    }
    case 'cluster':
      return `the Redis Cluster at ${list(target.nodes)}`;
    case 'sentinel':
      return `the Redis master "${target.name}" of the sentinels at ${list(target.sentinels)}`;
  }
};
