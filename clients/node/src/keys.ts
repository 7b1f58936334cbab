// Key and channel names of the registry (layout 2). The Go reference is
// reader/layout/keys.go; see docs/redis-layout.md for the table.

/** The reserved field of a user's members hash that marks the user as loaded. */
export const LOADED_FIELD = "\u0000loaded";

/** The shared tiers, in precedence order on a name clash (app beats user). */
export const SHARED_TIERS = ["app", "user"] as const;

export type SharedTier = (typeof SHARED_TIERS)[number];
/** Where a server of an effective view comes from. */
export type Tier = SharedTier | "private";

/**
 * The form of an id inside key names: `%` -> `%25`, `{` -> `%7B`,
 * `}` -> `%7D`, `:` -> `%3A`; every other character is kept.
 */
export function escapeId(id: string): string {
  return id.replace(/[%{}:]/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Readonly<Record<string, string>> = { "%": "%25", "{": "%7B", "}": "%7D", ":": "%3A" };

/** Builds every key and channel name the reader uses, under one prefix. */
export class Keys {
  /** prefix is the worker's --key-prefix ("" is valid; it never contains '{' or '}'). */
  constructor(readonly prefix: string) {}

  private user(id: string, part: string): string {
    return `${this.prefix}{u:${escapeId(id)}}:${part}`;
  }

  private server(name: string, part: string): string {
    return `${this.prefix}{s:${escapeId(name)}}:${part}`;
  }

  /** The user's members hash (server name -> revision, plus the loaded field); carries the TTL. */
  userMembers(userId: string): string {
    return this.user(userId, "m");
  }

  /** The string holding a server's one value (JSON). */
  serverValue(name: string): string {
    return this.server(name, "val");
  }

  /** A shared tier's hash (server name -> revision). */
  tier(t: SharedTier): string {
    return `${this.prefix}{shared}:${t}`;
  }

  /** Sharded channel of the user's membership notices. */
  userFeed(userId: string): string {
    return this.user(userId, "feed");
  }

  /** Sharded channel of one server's value changes. */
  serverFeed(name: string): string {
    return this.server(name, "feed");
  }

  /** Sharded channel of the shared tiers' changes. */
  sharedFeed(): string {
    return `${this.prefix}{shared}:feed`;
  }
}

/**
 * Whether a field of a user's members hash is a server the user holds: not
 * the loaded mark, not a tombstone (a value starting with '-'), not empty.
 */
export function isMember(field: string, value: string | null | undefined): boolean {
  return field !== LOADED_FIELD && typeof value === "string" && value !== "" && value[0] !== "-";
}

/**
 * Whether a membership value marks a server the user reaches only through an
 * agent (a trailing 'c'): readers add `consumeOnly: true` to its value.
 */
export function isConsumeOnly(value: string | null | undefined): boolean {
  return typeof value === "string" && value.endsWith("c");
}
