// The registry reader (reference: reader/reader.go; algorithm: docs/redis-layout.md, "How to read").
import { type Commands, type DedicatedSubscriber, type RegistryClient, type ShardedSubscriber, MAP_REPLIES, isCluster } from "./client.js";
import { Decrypter } from "./decrypt.js";
import { type JsonValue, parseValue, setOwn } from "./json.js";
import { Keys, LOADED_FIELD, SHARED_TIERS, type SharedTier, TENANT_FIELD, type Tier, isConsumeOnly, isMember, qualify, unqualify } from "./keys.js";
import { type WatchOptions, Watcher } from "./watch.js";

export interface ReaderOptions {
  /** A connected node-redis client or cluster; the reader does not own it. */
  client: RegistryClient;
  /** The worker's --key-prefix (default "mcp:" there; "" is valid, so nothing is defaulted here). */
  keyPrefix: string;
  /** LibreChat's CREDS_KEY (64 hex characters); when set, encrypted config fields come back decrypted. */
  credsKey?: string;
}

/** One server of an effective view: its tier and its value (config plus dbId, updatedAt, lastUpdatedAt). */
export interface Entry {
  tier: Tier;
  config: JsonValue;
}

/** A user's registry as chat nodes use it (Go: reader.View). */
export interface View {
  userId: string;
  /** The worker has loaded the user (its members hash has a TTL). */
  loaded: boolean;
  /** Milliseconds until the user's registry expires; 0 when not loaded. */
  expiresInMs: number;
  /** The user's private registry: server name -> value. */
  private: Record<string, JsonValue>;
  /** What the user sees: server name -> tier and value; app beats user beats private. */
  effective: Record<string, Entry>;
}

/** Reads the registry. Safe for concurrent use. */
export class RegistryReader {
  readonly keys: Keys;
  private readonly cmd: Commands;
  private readonly decrypter: Decrypter | undefined;
  private subscriber: Promise<ShardedSubscriber> | undefined;
  private dedicated: DedicatedSubscriber | undefined;

  constructor(private readonly opts: ReaderOptions) {
    this.keys = new Keys(opts.keyPrefix);
    this.cmd = opts.client.withTypeMapping(MAP_REPLIES);
    this.decrypter = opts.credsKey ? new Decrypter(opts.credsKey) : undefined;
  }

  /**
   * userId's effective view in two round trips: PTTL and HGETALL of the
   * members hash with both tiers, then GET of every value named there (each
   * batch is sent at once; node-redis pipelines commands of one tick, per node
   * on Cluster). A private member shows when its server has a value and no
   * tier names it; a name without a value is left out.
   */
  async effective(userId: string): Promise<View> {
    const k = this.keys;
    const [pttl, members, ...tiers] = await Promise.all([
      this.cmd.pTTL(k.userMembers(userId)),
      this.cmd.hGetAll(k.userMembers(userId)),
      ...SHARED_TIERS.map((t) => this.cmd.hGetAll(k.tier(t))),
    ]);
    if (!(pttl > 0)) {
      // The user's tenant is unknown until a load notes it: show nothing rather
      // than another tenant's shared servers. Publish user.login.
      return { userId, loaded: false, expiresInMs: 0, private: {}, effective: {} };
    }
    // Names in Redis are qualified by tenant; only the user's tenant's tier entries count.
    const tenant = members.get(TENANT_FIELD) ?? "";
    const tierOf = new Map<string, SharedTier>();
    for (let i = SHARED_TIERS.length - 1; i >= 0; i--) {
      for (const name of tiers[i]?.keys() ?? []) {
        if (unqualify(name).tenant === tenant) tierOf.set(name, SHARED_TIERS[i] as SharedTier);
      }
    }
    const names = [...tierOf.keys()];
    const consumeOnly = new Set<string>();
    for (const [name, rev] of members) {
      if (!tierOf.has(name) && isMember(name, rev)) {
        names.push(name);
        if (isConsumeOnly(rev)) consumeOnly.add(name);
      }
    }
    const values = await this.values(names);
    const view: View = { userId, loaded: pttl > 0, expiresInMs: pttl > 0 ? pttl : 0, private: {}, effective: {} };
    for (const [qualified, value] of values) {
      const tier = tierOf.get(qualified);
      const name = unqualify(qualified).name;
      const config = consumeOnly.has(qualified) ? withConsumeOnly(value) : value;
      if (tier === undefined) setOwn(view.private, name, config);
      setOwn(view.effective, name, { tier: tier ?? "private", config });
    }
    return view;
  }

  /** userId's private registry (server name -> value) and whether the user is loaded. Same reads as effective(). */
  async private(userId: string): Promise<{ private: Record<string, JsonValue>; loaded: boolean }> {
    const v = await this.effective(userId);
    return { private: v.private, loaded: v.loaded };
  }

  /** A server's value, or null when it is deleted or unknown. One round trip. */
  async server(name: string): Promise<JsonValue | null> {
    const raw = await this.cmd.get(this.keys.serverValue(name));
    return raw === null ? null : this.value(raw);
  }

  /**
   * The server userId sees under name, with the precedence of effective();
   * null when none. One round trip for a user of the default tenant, two for
   * a user of another tenant (the first tells the tenant).
   */
  async lookup(userId: string, name: string): Promise<Entry | null> {
    if (unqualify(name).tenant !== "") return null; // a plain server name never holds the tenant separator
    const first = await this.lookupIn(userId, name);
    return first.tenant === "" ? first.entry : (await this.lookupIn(userId, qualify(first.tenant, name))).entry;
  }

  private async lookupIn(userId: string, name: string): Promise<{ entry: Entry | null; tenant: string }> {
    const k = this.keys;
    const [inApp, inUser, member, tenantRaw, loaded, raw] = await Promise.all([
      this.cmd.hExists(k.tier("app"), name),
      this.cmd.hExists(k.tier("user"), name),
      this.cmd.hGet(k.userMembers(userId), name),
      this.cmd.hGet(k.userMembers(userId), TENANT_FIELD),
      this.cmd.hGet(k.userMembers(userId), LOADED_FIELD),
      this.cmd.get(k.serverValue(name)),
    ]);
    if (loaded === null || loaded === undefined) return { entry: null, tenant: "" }; // not loaded: nothing, as effective()
    const tenant = tenantRaw ?? "";
    if (unqualify(name).tenant !== tenant) return { entry: null, tenant };
    return { entry: this.entryOf(name, Boolean(inApp), Boolean(inUser), member, raw), tenant: "" };
  }

  private entryOf(name: string, inApp: boolean, inUser: boolean, member: string | null | undefined, raw: string | null): Entry | null {
    if (raw === null) return null;
    const config = this.value(raw);
    if (inApp) return { tier: "app", config };
    if (inUser) return { tier: "user", config };
    if (isMember(name, member)) {
      return { tier: "private", config: isConsumeOnly(member) ? withConsumeOnly(config) : config };
    }
    return null;
  }

  /** Whether userId is loaded and how long until its registry expires (ms; 0 when not loaded). One round trip. */
  async loaded(userId: string): Promise<{ loaded: boolean; expiresInMs: number }> {
    const pttl = await this.cmd.pTTL(this.keys.userMembers(userId));
    return pttl > 0 ? { loaded: true, expiresInMs: pttl } : { loaded: false, expiresInMs: 0 };
  }

  /**
   * Follows userId's changes: the user's feed, the shared feed, and the feed
   * of every server in the user's effective view (kept in step with the
   * view). Resolves once subscribed; iterate it with for await, stop it with
   * close().
   */
  async watch(userId: string, opts: WatchOptions = {}): Promise<Watcher> {
    // The feeds of the view's servers, by their qualified names, and the user's tenant.
    const names = async (): Promise<{ tenant: string; names: string[]; loaded: boolean }> => {
      const [view, tenant] = await Promise.all([this.effective(userId), this.cmd.hGet(this.keys.userMembers(userId), TENANT_FIELD)]);
      const t = tenant ?? "";
      return { tenant: t, names: Object.keys(view.effective).map((n) => qualify(t, n)), loaded: view.loaded };
    };
    const w = new Watcher(userId, this.keys, await this.sub(), names, opts);
    try {
      await w.start();
    } catch (err) {
      await w.close().catch(() => undefined);
      throw err;
    }
    return w;
  }

  /** Closes the dedicated pub/sub connection watch() opened on a standalone client (not the client itself). */
  async close(): Promise<void> {
    const pending = this.subscriber;
    this.subscriber = undefined;
    await pending?.catch(() => undefined);
    const d = this.dedicated;
    this.dedicated = undefined;
    if (d) await d.close();
  }

  /** The SSUBSCRIBE side: the cluster itself, or one dedicated connection per reader for a standalone client. */
  private sub(): Promise<ShardedSubscriber> {
    const client = this.opts.client;
    this.subscriber ??= (async () => {
      if (isCluster(client) || !client.duplicate) return client;
      const d = client.duplicate();
      await d.connect();
      this.dedicated = d;
      return d;
    })();
    this.subscriber.catch(() => (this.subscriber = undefined)); // a failed connect is tried again next time
    return this.subscriber;
  }

  /** Values of the named servers (decrypted) in one batch; servers without a value are left out. */
  private async values(names: string[]): Promise<Map<string, JsonValue>> {
    const raws = await Promise.all(names.map((n) => this.cmd.get(this.keys.serverValue(n))));
    const out = new Map<string, JsonValue>();
    raws.forEach((raw, i) => {
      if (raw !== null) out.set(names[i] as string, this.value(raw));
    });
    return out;
  }

  private value(raw: string): JsonValue {
    const v = parseValue(raw);
    return this.decrypter ? this.decrypter.decryptValue(v) : v;
  }
}

/** A reader on opts.client; throws when credsKey is set but not 64 hex characters. */
export function createReader(opts: ReaderOptions): RegistryReader {
  return new RegistryReader(opts);
}

/** value with `consumeOnly: true`, as LibreChat marks agent-only servers. */
function withConsumeOnly(value: JsonValue): JsonValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return { ...value, consumeOnly: true };
}
