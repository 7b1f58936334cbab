// watch(): a user's change feed over sharded pub/sub (SSUBSCRIBE).
import type { Listener, ShardedSubscriber } from "./client.js";
import { type Keys, unqualify } from "./keys.js";

/** One change that concerns the watched user. */
export interface Change {
  userId: string;
  /** user feed: added | removed | reloaded; shared feed: added | removed | changed; server feed: changed | removed. */
  change: "added" | "removed" | "reloaded" | "changed";
  servers: string[];
  rev: number;
  /** Shared feed only: the tier the servers are in now ("" when in none). */
  tier?: "app" | "user" | "";
}

export interface WatchOptions {
  /** Called when re-reading the view or (un)subscribing fails; the next notice tries again. Default: ignored. */
  onError?: (err: unknown) => void;
}

type Notice = { change: string; servers?: unknown; server?: unknown; rev: number; [k: string]: unknown };

/** Parses a feed message; null when it is not a JSON object with a change and a numeric rev. */
function parseNotice(message: string): Notice | null {
  try {
    const m: unknown = JSON.parse(message);
    if (typeof m !== "object" || m === null || Array.isArray(m)) return null;
    const n = m as Record<string, unknown>;
    if (typeof n.change !== "string" || typeof n.rev !== "number") return null;
    return n as Notice;
  } catch {
    return null;
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
}

/**
 * The changes of one user, as an async iterator (for await ... of). Follows
 * the user's feed, the shared feed and the feed of every server in the user's
 * effective view; after a membership notice (user feed) or a tier add/remove
 * (shared feed) it re-reads the view's names and (un)subscribes server feeds.
 * close() unsubscribes and ends the iteration.
 */
export class Watcher implements AsyncIterableIterator<Change> {
  private readonly queue: Change[] = [];
  private readonly waiting: Array<(r: IteratorResult<Change>) => void> = [];
  /** server name -> its feed channel, for the feeds subscribed now. */
  private readonly servers = new Map<string, string>();
  private readonly serverOf = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The user's tenant at the last re-read ("" default): shared notices of other tenants are dropped. */
  private tenant = "";
  /** Whether the user was loaded at the last re-read: before that, the tenant is unknown and no shared notice is forwarded. */
  private loaded = false;

  constructor(
    readonly userId: string,
    private readonly keys: Keys,
    private readonly sub: ShardedSubscriber,
    private readonly names: () => Promise<{ tenant: string; names: string[]; loaded: boolean }>,
    private readonly opts: WatchOptions = {},
  ) {}

  /** Subscribes the user and shared feeds, then the server feeds of the current view. */
  async start(): Promise<void> {
    await Promise.all([
      this.sub.sSubscribe(this.keys.userFeed(this.userId), this.onUser),
      this.sub.sSubscribe(this.keys.sharedFeed(), this.onShared),
    ]);
    await this.resync();
  }

  /** The servers whose feeds are followed now (the effective view at the last re-read). */
  watching(): string[] {
    return [...this.servers.keys()].map((q) => unqualify(q).name).sort();
  }

  /** Resolves when the re-reads scheduled so far are done. */
  synced(): Promise<void> {
    return this.chain;
  }

  private readonly onUser: Listener = (message) => {
    const n = parseNotice(message);
    if (!n) return;
    const servers = strings(n.servers).map((q) => unqualify(q).name);
    this.push({ ...n, userId: typeof n.userId === "string" ? n.userId : this.userId, servers } as Change);
    if (n.change === "added" || n.change === "removed" || n.change === "reloaded") void this.resync();
  };

  private readonly onShared: Listener = (message) => {
    const n = parseNotice(message);
    if (!n) return;
    const servers = strings(n.servers)
      .map(unqualify)
      .filter((q) => this.loaded && q.tenant === this.tenant)
      .map((q) => q.name);
    if (servers.length === 0) return; // another tenant's tiers
    this.push({ ...n, userId: this.userId, servers } as Change);
    if (n.change === "added" || n.change === "removed") void this.resync();
  };

  private readonly onServer: Listener = (message, channel) => {
    const n = parseNotice(message);
    if (!n) return;
    const server = typeof n.server === "string" ? n.server : this.serverOf.get(channel);
    if (server === undefined) return;
    this.push({ userId: this.userId, change: n.change as Change["change"], servers: [unqualify(server).name], rev: n.rev });
  };

  /** Re-reads the view's names and makes the server subscriptions match (serialised). */
  private resync(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        const view = await this.names();
        this.tenant = view.tenant;
        this.loaded = view.loaded;
        const want = new Set(view.names);
        if (this.closed) return;
        const add = [...want].filter((s) => !this.servers.has(s));
        const drop = [...this.servers.keys()].filter((s) => !want.has(s));
        await Promise.all([...add.map((s) => this.subscribe(s)), ...drop.map((s) => this.unsubscribe(s))]);
      } catch (err) {
        this.opts.onError?.(err);
      }
    });
    return this.chain;
  }

  private async subscribe(server: string): Promise<void> {
    const channel = this.keys.serverFeed(server);
    this.servers.set(server, channel);
    this.serverOf.set(channel, server);
    // One channel per call: on Cluster each channel may live on another master.
    await this.sub.sSubscribe(channel, this.onServer);
  }

  private async unsubscribe(server: string): Promise<void> {
    const channel = this.servers.get(server);
    if (channel === undefined) return;
    this.servers.delete(server);
    this.serverOf.delete(channel);
    await this.sub.sUnsubscribe(channel, this.onServer);
  }

  private push(c: Change): void {
    if (this.closed) return;
    const w = this.waiting.shift();
    if (w) w({ value: c, done: false });
    else this.queue.push(c);
  }

  next(): Promise<IteratorResult<Change>> {
    const c = this.queue.shift();
    if (c) return Promise.resolve({ value: c, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async return(): Promise<IteratorResult<Change>> {
    await this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Change> {
    return this;
  }

  /** Stops watching: unsubscribes every feed and ends the iteration (queued changes are dropped). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
    await this.chain;
    await Promise.all([
      this.sub.sUnsubscribe(this.keys.userFeed(this.userId), this.onUser),
      this.sub.sUnsubscribe(this.keys.sharedFeed(), this.onShared),
      ...[...this.servers.keys()].map((s) => this.unsubscribe(s)),
    ]);
  }
}
