import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Change, LOADED_FIELD, type Watcher, createReader } from "../src/index.js";
import { Scratch, type TestRedis, connect, within } from "./helpers.js";

const HOUR = 3_600_000;
let redis: TestRedis;
before(async () => {
  redis = await connect();
});
after(async () => {
  await redis.close();
});

async function next(w: Watcher): Promise<Change> {
  const r = await within(w.next(), 3000, "change");
  assert.equal(r.done, false);
  return r.value as Change;
}

test("watch forwards the user, shared and server feeds, and follows the view", { timeout: 20_000 }, async () => {
  const s = new Scratch(redis);
  const reader = createReader({ client: redis, keyPrefix: s.prefix });
  const user = "a:b {ユーザー}";
  const u = "{u:a%3Ab %7Bユーザー%7D}";
  let w: Watcher | undefined;
  try {
    await s.hash(`${u}:m`, { [LOADED_FIELD]: "1", "gh:1": "1", dead: "2", tomb: "-3" }, HOUR);
    await s.hash("{shared}:app", { "pub lic": "1" });
    await s.string("{s:gh%3A1}:val", "{}");
    await s.string("{s:pub lic}:val", "{}");
    await s.string("{s:new%25}:val", "{}");

    w = await reader.watch(user);
    assert.deepEqual(w.watching(), ["gh:1", "pub lic"]);

    // User feed: forwarded as is.
    const added = { userId: user, change: "added", servers: ["new%"], rev: 7 };
    await s.hash(`${u}:m`, { "new%": "7" }); // HSET keeps the TTL
    assert.equal(await s.publish(`${u}:feed`, added), 1);
    assert.deepEqual(await next(w), added);
    // ... and the server feeds follow the view.
    await w.synced();
    assert.deepEqual(w.watching(), ["gh:1", "new%", "pub lic"]);

    // Server feed of the server just added (its channel is escaped).
    assert.equal(await s.publish("{s:new%25}:feed", { server: "new%", change: "changed", rev: 8 }), 1);
    assert.deepEqual(await next(w), { userId: user, change: "changed", servers: ["new%"], rev: 8 });

    // Server feed of a shared server.
    assert.equal(await s.publish("{s:pub lic}:feed", { server: "pub lic", change: "removed", rev: 9 }), 1);
    assert.deepEqual(await next(w), { userId: user, change: "removed", servers: ["pub lic"], rev: 9 });

    // Shared feed: forwarded with the user's id.
    assert.equal(await s.publish("{shared}:feed", { change: "changed", servers: ["pub lic"], tier: "user", rev: 10 }), 1);
    assert.deepEqual(await next(w), { userId: user, change: "changed", servers: ["pub lic"], tier: "user", rev: 10 });

    // A removal notice drops the server's feed.
    await s.hash(`${u}:m`, { "gh:1": "-11" });
    await s.publish(`${u}:feed`, { userId: user, change: "removed", servers: ["gh:1"], rev: 11 });
    assert.equal((await next(w)).change, "removed");
    await w.synced();
    assert.deepEqual(w.watching(), ["new%", "pub lic"]);
    assert.equal(await s.publish("{s:gh%3A1}:feed", { server: "gh:1", change: "changed", rev: 12 }), 0);

    // Malformed messages are dropped; other users' feeds are not followed.
    await s.publish(`${u}:feed`, { nonsense: true });
    await s.publish("{u:other}:feed", { userId: "other", change: "added", servers: [], rev: 1 });
    await s.publish(`${u}:feed`, { userId: user, change: "reloaded", servers: [], rev: 13 });
    assert.equal((await next(w)).rev, 13);

    // close() ends the iteration and unsubscribes everything.
    const pending = w.next();
    await w.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.equal(await s.publish(`${u}:feed`, added), 0);
    assert.equal(await s.publish("{shared}:feed", { change: "added", servers: [], tier: "app", rev: 1 }), 0);
    assert.equal(await s.publish("{s:new%25}:feed", { server: "new%", change: "changed", rev: 1 }), 0);
  } finally {
    await w?.close();
    await reader.close();
    await s.cleanup();
  }
});

test("a shared tier add subscribes the server; for await ends on close", { timeout: 20_000 }, async () => {
  const s = new Scratch(redis);
  const reader = createReader({ client: redis, keyPrefix: s.prefix });
  await s.hash("{u:nobody}:m", { [LOADED_FIELD]: "1" }, 3_600_000);
  const w = await reader.watch("nobody"); // loaded with no private server: shared tiers only
  try {
    assert.deepEqual(w.watching(), []);
    await s.string("{s:tool}:val", "{}");
    await s.hash("{shared}:user", { tool: "1" });
    await s.publish("{shared}:feed", { change: "added", servers: ["tool"], tier: "user", rev: 1 });
    await s.publish("{s:tool}:feed", { server: "tool", change: "changed", rev: 2 }); // may come before the re-read
    const seen: Change[] = [];
    for await (const c of w) {
      seen.push(c);
      if (seen.length === 1) {
        await w.synced();
        assert.deepEqual(w.watching(), ["tool"]);
        await s.publish("{s:tool}:feed", { server: "tool", change: "changed", rev: 3 });
      }
      if (c.rev === 3) break; // break calls return(), which closes the watcher
    }
    assert.equal(seen[0]?.change, "added");
    assert.deepEqual(seen.at(-1), { userId: "nobody", change: "changed", servers: ["tool"], rev: 3 });
    assert.equal(await s.publish("{s:tool}:feed", { server: "tool", change: "changed", rev: 4 }), 0);
  } finally {
    await w.close();
    await reader.close();
    await s.cleanup();
  }
});
