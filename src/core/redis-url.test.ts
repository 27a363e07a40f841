import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRedisTarget, hasRedisScheme, parseRedisUrl } from './redis-url.ts';

const target = (raw: string) => {
  const parsed = parseRedisUrl(raw);
  assert.ok('target' in parsed, `${raw}: ${'problem' in parsed ? parsed.problem : ''}`);
  return parsed.target;
};
const problem = (raw: string): string => {
  const parsed = parseRedisUrl(raw);
  assert.ok('problem' in parsed, `${raw} was accepted`);
  return parsed.problem;
};

describe('Redis URLs', () => {
  it('one server: handed to ioredis as given', () => {
    assert.deepEqual(target('redis://:pw@h:6380/2'), { kind: 'single', url: 'redis://:pw@h:6380/2' });
    assert.deepEqual(target('rediss://h'), { kind: 'single', url: 'rediss://h' });
  });

  it('a cluster by its seed nodes, with credentials and TLS', () => {
    assert.deepEqual(target('redis+cluster://10.0.0.1:7000,10.0.0.2:7001'), {
      kind: 'cluster',
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
    assert.deepEqual(target('rediss+cluster://app:p%40ss@redis-a,[::1]:7002/0'), {
      kind: 'cluster',
      tls: true,
      username: 'app',
      password: 'p@ss',
      nodes: [
        { host: 'redis-a', port: 6379 },
        { host: '::1', port: 7002 },
      ],
    });
  });

  it('a master through Sentinel, by name, with a database', () => {
    assert.deepEqual(target('redis+sentinel://:pw@s1:26379,s2/mymaster/3'), {
      kind: 'sentinel',
      password: 'pw',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      db: 3,
    });
    assert.equal(
      describeRedisTarget(target('redis+sentinel://u:secret@s1:1/m')),
      'the Redis master "m" of the sentinels at s1:1',
    );
  });

  it('names what is wrong with a bad form, never the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['redis+cluster://', /needs host:port pairs/],
      ['redis+cluster://u:secret@h:1,:2', /needs host:port pairs separated by commas, got ":2"/],
      ['redis+cluster://u:secret@h:1,h:99999', /got "h:99999"/],
      ['redis+cluster://u:secret@h:1/3', /a Redis Cluster has database 0 only/],
      ['redis+cluster://u:secret@h:1?tls=1', /takes no \?options/],
      ['redis+sentinel://u:secret@h:1', /needs the master name/],
      ['redis+sentinel://u:secret@h:1/m/x', /the database "x" for the master "m" is not a number/],
      ['redis://u:secret@h:1,h:2', /several need redis\+cluster:\/\/ or redis\+sentinel:\/\//],
      ['redis://u:secret@h:1/abc', /the database "abc" for Redis at h:1 is not a number/],
      ['memcached://u:secret@h:1', /the scheme "memcached" is none of/],
    ];
    for (const [raw, expected] of cases) {
      const text = problem(raw);
      assert.match(text, expected, raw);
      assert.ok(!text.includes('secret'), `${raw}: ${text}`);
    }
  });

  it('the settings accept every scheme and leave the rest to the client', () => {
    for (const raw of ['redis://h', 'rediss+cluster://h:1', 'redis+sentinel://h/m', 'REDIS+CLUSTER://h']) {
      assert.ok(hasRedisScheme(raw), raw);
    }
    for (const raw of ['http://h', 'redis:h', 'rediss+sentinel://h/m', 'redis+cluster://']) {
      assert.ok(!hasRedisScheme(raw), raw);
    }
  });
});
