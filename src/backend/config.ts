// mm-backend configuration: the common flags plus the topics whose streams health reports on.
import {
  type CommonConfig,
  type CommonFlags,
  type Env,
  failOnProblems,
  type Problems,
  pick,
  requireDatabase,
  resolveCommon,
} from '../core/config.ts';
import { isTopicName } from '../core/envelope.ts';

export type BackendConfig = CommonConfig & {
  readonly topics: readonly string[];
};

export type BackendFlags = CommonFlags & { readonly topics?: string };

export const backendDefaults = { port: 8000, topics: 'identity' } as const;

export const parseTopics = (raw: string, problems: Problems): string[] => {
  const topics = raw
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (topics.length === 0) problems.push('--topics must name at least one topic');
  for (const topic of topics)
    if (!isTopicName(topic)) problems.push(`--topics: "${topic}" is not a valid topic name`);
  return topics;
};

export const loadBackendConfig = (flags: BackendFlags, env: Env): BackendConfig => {
  const problems: Problems = [];
  const common = resolveCommon(flags, env, { port: backendDefaults.port }, problems);
  requireDatabase(common.deployment, problems);
  const topics = parseTopics(pick(flags.topics, env.MM_TOPICS) ?? backendDefaults.topics, problems);
  failOnProblems(problems);
  return { ...common, topics };
};
