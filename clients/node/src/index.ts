export { createReader, RegistryReader, type ReaderOptions, type View, type Entry } from "./reader.js";
export { Watcher, type Change, type WatchOptions } from "./watch.js";
export { Decrypter, ENCRYPTED_FIELDS } from "./decrypt.js";
export { Keys, escapeId, isConsumeOnly, isMember, LOADED_FIELD, SHARED_TIERS, type SharedTier, type Tier } from "./keys.js";
export type { RegistryClient, Commands, ShardedSubscriber, DedicatedSubscriber, Listener } from "./client.js";
export type { JsonValue, JsonObject } from "./json.js";
