// mm-backend configuration: the common flags plus the topics whose streams health reports on.
import {
  type CommonConfig,
  type CommonFlags,
  type Env,
  failOnProblems,
  type Problems,
  parseTopicList,
  pick,
  requireDatabase,
  resolveCommon,
} from '../core/config.ts';

export type BackendConfig = CommonConfig & {
  readonly topics: readonly string[];
};

export type BackendFlags = CommonFlags & { readonly topics?: string };

export const backendDefaults = { port: 8000, topics: 'identity' } as const;

export const loadBackendConfig = (flags: BackendFlags, env: Env): BackendConfig => {
  const problems: Problems = [];
  const common = resolveCommon(flags, env, { port: backendDefaults.port }, problems);
  requireDatabase(common.deployment, problems);
  const topics = parseTopicList(pick(flags.topics, env.MM_TOPICS) ?? backendDefaults.topics, problems);
  failOnProblems(problems);
  return { ...common, topics };
};
