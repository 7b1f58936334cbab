import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Change, LOADED_FIELD, type Watcher, createReader } from "../src/index.js";
import { TENANT_FIELD } from "../src/keys.js";
import { Scratch, type TestRedis, connect, within } from "./helpers.js";

const HOUR = 3_600_000;
let redis: TestRedis;
before(async () => {
  redis = await connect();
});
after(async () => {
  await redis.close();
});

/** The next change, or null when none arrives within ms. */
async function maybeNext(w: Watcher, ms = 500): Promise<Change | null> {
  try {
    const r = await within(w.next(), ms, "change");
    return r.done ? null : (r.value as Change);
  } catch {
    return null;
  }
}

test("review4: a not-loaded user's watch receives no shared notices (another tenant's names)", { timeout: 20_000 }, async () => {
  const s = new Scratch(redis);
  const reader = createReader({ client: redis, keyPrefix: s.prefix });
  let w: Watcher | undefined;
  try {
    w = await reader.watch("nobody"); // not loaded: tenant unknown
    await s.publish("{shared}:feed", { change: "added", servers: ["default-tenant-secret"], tier: "app", rev: 1 });
    const c = await maybeNext(w);
    assert.equal(c, null, `not-loaded user got ${JSON.stringify(c)}`);
  } finally {
    await w?.close();
    await reader.close();
    await s.cleanup();
  }
});

test("review4: a tenant user that is invalidated then sees the default tenant's shared notices", { timeout: 20_000 }, async () => {
  const s = new Scratch(redis);
  const reader = createReader({ client: redis, keyPrefix: s.prefix });
  const u = "{u:alice}";
  let w: Watcher | undefined;
  try {
    await s.hash(`${u}:m`, { [LOADED_FIELD]: "1", [TENANT_FIELD]: "acme" }, HOUR);
    w = await reader.watch("alice");
    const got: Change[] = [];
    void (async () => {
      for await (const c of w!) got.push(c);
    })();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // Default tenant's shared notice: filtered while alice is loaded (tenant acme).
    await s.publish("{shared}:feed", { change: "added", servers: ["default-secret-1"], tier: "app", rev: 1 });
    await sleep(300);
    assert.deepEqual(got, []);
    // Invalidation: the hash goes, a reloaded notice is published.
    await s.del(`${u}:m`);
    await s.publish(`${u}:feed`, { userId: "alice", change: "reloaded", servers: [], rev: 0 });
    await sleep(300);
    await w.synced();
    assert.equal(got.length, 1);
    assert.equal((got as Change[])[0]?.change, "reloaded");
    await s.publish("{shared}:feed", { change: "added", servers: ["default-secret-2"], tier: "app", rev: 2 });
    await sleep(300);
    assert.equal(got.length, 1, `acme user (now not loaded) got another tenant's shared notice ${JSON.stringify((got as Change[])[1])}`);
  } finally {
    await w?.close();
    await reader.close();
    await s.cleanup();
  }
});
