// One loop of the raw pipeline in a process of its own, as the relay and the consumer run:
// `drain` or `consume` <database url> <redis url> <stream key>; tells its parent over IPC when it
// is ready and how many events it applied.
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { runRawConsumer, runRawDrain } from './raw-pipeline.ts';

const [role, databaseUrl = '', redisUrl = '', key = ''] = process.argv.slice(2);
const send = (message: string | number): void => {
  process.send?.(message);
};

// Ends with its parent: the bench stops it with SIGTERM, or it goes when the IPC channel does.
process.on('disconnect', () => process.exit(0));
// Unprepared statements are planned afresh each time. A prepared statement without parameters keeps
// the plan of its first execution: made on an empty outbox (sequential scan and sort), it cost time in
// proportion to the backlog on every later batch; publishing 100,000 events took 46 s instead of 17.
const sql = postgres(databaseUrl, { max: 1, prepare: false, onnotice: () => {} });
const redis = new Redis(redisUrl);
const loop =
  role === 'drain'
    ? runRawDrain(sql, redis, key, () => send('ready'))
    : runRawConsumer(sql, redis, key, (count) => send(count));
if (role !== 'drain') send('ready');
loop.catch((error: unknown) => {
  process.stderr.write(`raw ${role} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
