// The parts of a node-redis client (standalone or cluster) the reader uses.
import { RESP_TYPES } from "@redis/client";

/** A sharded pub/sub message listener (node-redis calls it with message, channel). */
export type Listener = (message: string, channel: string) => void;

/** Replies of hash commands as Map (so no field name can clash with Object's own keys). */
export const MAP_REPLIES = { [RESP_TYPES.MAP]: Map } as const;

/** The read commands, on a client whose map replies are typed as Map. */
export interface Commands {
  pTTL(key: string): Promise<number>;
  hGetAll(key: string): Promise<Map<string, string>>;
  get(key: string): Promise<string | null>;
  hExists(key: string, field: string): Promise<number | boolean>;
  hGet(key: string, field: string): Promise<string | null>;
}

/** What watch() needs: SSUBSCRIBE / SUNSUBSCRIBE of one channel with a listener. */
export interface ShardedSubscriber {
  sSubscribe(channel: string, listener: Listener): Promise<void>;
  sUnsubscribe(channel: string, listener: Listener): Promise<void>;
}

/**
 * A node-redis client: `createClient()` or `createCluster()` from `redis` or
 * `@redis/client` (v5 or v6), RESP2 or RESP3, connected. The reader never
 * closes it.
 */
export interface RegistryClient extends ShardedSubscriber {
  withTypeMapping(mapping: typeof MAP_REPLIES): Commands;
  /** A standalone client only: a new connection with the same options (for pub/sub). */
  duplicate?(): DedicatedSubscriber;
}

/** A dedicated connection the reader opens (standalone) and closes. */
export interface DedicatedSubscriber extends ShardedSubscriber {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

/**
 * Whether client is a node-redis cluster. A cluster keeps its own pub/sub
 * connection per master and routes SSUBSCRIBE by the channel's slot; a
 * standalone client needs a dedicated connection for pub/sub.
 */
export function isCluster(client: RegistryClient): boolean {
  return "masters" in client;
}
