// Key and channel names of the registry (layout 2). The Go reference is
// reader/layout/keys.go; see docs/redis-layout.md for the table.

/** The reserved field of a user's members hash that marks the user as loaded. */
export const LOADED_FIELD = "\u0000loaded";

/** The reserved field of a user's members hash holding the user's tenant (absent: the default tenant). */
export const TENANT_FIELD = "\u0000tenant";

/** Whether a members-hash field is reserved (starts with NUL, which no server name has). */
export function isReserved(field: string): boolean {
  return field.startsWith("\u0000");
}

const TENANT_SEP = "\u001f";

/**
 * The registry's name of server `name` in `tenant`: the name itself in the
 * default tenant (""), else `<tenant>\u001f<name>` (Go: layout.Qualify).
 */
export function qualify(tenant: string, name: string): string {
  return tenant === "" ? name : `${tenant}${TENANT_SEP}${name}`;
}

/** Splits a qualified name into its tenant ("" default) and name. */
export function unqualify(qualified: string): { tenant: string; name: string } {
  const i = qualified.indexOf(TENANT_SEP);
  return i < 0 ? { tenant: "", name: qualified } : { tenant: qualified.slice(0, i), name: qualified.slice(i + 1) };
}

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
  return !isReserved(field) && typeof value === "string" && value !== "" && value[0] !== "-";
}

/**
 * Whether a membership value marks a server the user reaches only through an
 * agent (a trailing 'c'): readers add `consumeOnly: true` to its value.
 */
export function isConsumeOnly(value: string | null | undefined): boolean {
  return typeof value === "string" && value.endsWith("c");
}
