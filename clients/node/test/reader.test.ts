import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { LOADED_FIELD, createReader } from "../src/index.js";
import { Scratch, type TestRedis, connect, encrypt, nodeDecrypts } from "./helpers.js";

const HOUR = 3_600_000;
let redis: TestRedis;
before(async () => {
  redis = await connect();
});
after(async () => {
  await redis.close();
});

/** A fresh prefix for one test, its keys deleted at the end. */
async function withScratch(fn: (s: Scratch) => Promise<void>): Promise<void> {
  const s = new Scratch(redis);
  try {
    await fn(s);
  } finally {
    await s.cleanup();
  }
}

const val = (name: string, extra: object = {}): string => JSON.stringify({ type: "streamable-http", url: `https://${encodeURIComponent(name)}.test/mcp`, updatedAt: 1, lastUpdatedAt: 1, ...extra });

test("ids with :{}*%, spaces and unicode are escaped in key names", () =>
  withScratch(async (s) => {
    const user = "team{x}:a 50% ユーザー*";
    const server = "gh:{tools}* 100% サーバー";
    // Key names written literally (docs/redis-layout.md), not through Keys.
    await s.hash("{u:team%7Bx%7D%3Aa 50%25 ユーザー*}:m", { [LOADED_FIELD]: "1", [server]: "4" }, HOUR);
    await s.string("{s:gh%3A%7Btools%7D* 100%25 サーバー}:val", val(server));
    const r = createReader({ client: redis, keyPrefix: s.prefix });
    const v = await r.effective(user);
    assert.equal(v.loaded, true);
    assert.deepEqual(Object.keys(v.effective), [server]);
    assert.deepEqual(v.effective[server], { tier: "private", config: JSON.parse(val(server)) });
    assert.deepEqual(v.private, { [server]: JSON.parse(val(server)) });
    assert.deepEqual(await r.server(server), JSON.parse(val(server)));
    assert.deepEqual(await r.lookup(user, server), { tier: "private", config: JSON.parse(val(server)) });
    assert.equal(await r.server("gh:{tools}* 100%"), null);
  }));

test("tier precedence: app beats user beats private, in views and lookups", () =>
  withScratch(async (s) => {
    await s.hash("{shared}:app", { both: "1", appOnly: "2" });
    await s.hash("{shared}:user", { both: "3", userOnly: "4", mine: "5" });
    await s.hash("{u:u1}:m", { [LOADED_FIELD]: "1", appOnly: "1", mine: "2", solo: "3" }, HOUR);
    for (const n of ["both", "appOnly", "userOnly", "mine", "solo"]) await s.string(`{s:${n}}:val`, val(n));
    const r = createReader({ client: redis, keyPrefix: s.prefix });
    const v = await r.effective("u1");
    const tiers = Object.fromEntries(Object.entries(v.effective).map(([n, e]) => [n, e.tier]));
    assert.deepEqual(tiers, { both: "app", appOnly: "app", userOnly: "user", mine: "user", solo: "private" });
    assert.deepEqual(v.private, { solo: JSON.parse(val("solo")) });
    assert.ok(v.expiresInMs > 0 && v.expiresInMs <= HOUR);
    for (const [n, t] of Object.entries(tiers)) assert.equal((await r.lookup("u1", n))?.tier, t, n);
    assert.deepEqual(await r.private("u1"), { private: v.private, loaded: true });
    // A user who is not loaded sees nothing (the tenant is unknown before a load).
    assert.equal((await r.lookup("u2", "solo")), null);
    assert.equal((await r.lookup("u2", "mine")), null);
  }));

test("tombstones, the loaded field and servers without a value never show", () =>
  withScratch(async (s) => {
    await s.hash("{u:u1}:m", { [LOADED_FIELD]: "1732612800000", kept: "3", gone: "-7", empty: "", deleted: "2" }, HOUR);
    await s.hash("{shared}:app", { sharedDeleted: "1" });
    for (const n of ["kept", "gone", "empty"]) await s.string(`{s:${n}}:val`, val(n));
    await s.string(`{s:${encodeURIComponent("\u0000")}loaded}:val`, val("x")); // never asked for
    const r = createReader({ client: redis, keyPrefix: s.prefix });
    const v = await r.effective("u1");
    assert.deepEqual(Object.keys(v.effective), ["kept"]);
    assert.deepEqual(Object.keys(v.private), ["kept"]);
    assert.equal(await r.lookup("u1", "gone"), null);
    assert.equal(await r.lookup("u1", "empty"), null);
    assert.equal(await r.lookup("u1", "deleted"), null);
    assert.equal(await r.lookup("u1", "sharedDeleted"), null);
    assert.equal(await r.lookup("u1", LOADED_FIELD), null);
    assert.equal(await r.server("deleted"), null);
  }));

test("a user who is not loaded sees nothing, not even shared tiers (the tenant is unknown before a load)", () =>
  withScratch(async (s) => {
    await s.hash("{shared}:user", { pub: "1" });
    await s.string("{s:pub}:val", val("pub"));
    await s.string("{s:priv}:val", val("priv"));
    const r = createReader({ client: redis, keyPrefix: s.prefix });
    const v = await r.effective("nobody");
    assert.deepEqual(v, { userId: "nobody", loaded: false, expiresInMs: 0, private: {}, effective: {} });
    assert.deepEqual(await r.loaded("nobody"), { loaded: false, expiresInMs: 0 });
    await s.hash("{u:u1}:m", { [LOADED_FIELD]: "1", priv: "1" }, HOUR);
    const l = await r.loaded("u1");
    assert.equal(l.loaded, true);
    assert.ok(l.expiresInMs > HOUR - 60_000 && l.expiresInMs <= HOUR);
  }));

test("a server named __proto__ is an ordinary name", () =>
  withScratch(async (s) => {
    await s.hash("{u:u1}:m", Object.fromEntries([[LOADED_FIELD, "1"], ["__proto__", "1"]]), HOUR);
    await s.string("{s:__proto__}:val", val("p"));
    const r = createReader({ client: redis, keyPrefix: s.prefix });
    const v = await r.effective("u1");
    assert.deepEqual(Object.keys(v.effective), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(v.effective), Object.prototype);
  }));

test("CREDS_KEY decryption; a wrong key leaves the fields as stored", () =>
  withScratch(async (s) => {
    const key = randomBytes(32).toString("hex");
    const stored = {
      oauth: { client_id: "cid", client_secret: encrypt(key, "oauth-secret") },
      apiKey: { source: "admin", key: encrypt(key, "api-key") },
      headers: { "X-Plain": "a:b" },
    };
    await s.hash("{shared}:app", { enc: "1" });
    await s.string("{s:enc}:val", JSON.stringify(stored));
    const plain = { ...stored, oauth: { client_id: "cid", client_secret: "oauth-secret" }, apiKey: { source: "admin", key: "api-key" } };

    await s.hash("{u:u1}:m", { [LOADED_FIELD]: "1" }, HOUR);
    const r = createReader({ client: redis, keyPrefix: s.prefix, credsKey: key });
    assert.deepEqual(await r.server("enc"), plain);
    assert.deepEqual((await r.effective("u1")).effective.enc, { tier: "app", config: plain });
    assert.deepEqual(await r.lookup("u1", "enc"), { tier: "app", config: plain });

    const none = createReader({ client: redis, keyPrefix: s.prefix });
    assert.deepEqual(await none.server("enc"), stored);

    // A wrong key: vectors whose wrong-key decryption has bad padding (almost
    // all; Node's own PKCS#7 check picks them) are left as stored.
    const wrongKey = randomBytes(32).toString("hex");
    let secret = encrypt(key, "api-key");
    while (nodeDecrypts(wrongKey, secret)) secret = encrypt(key, "api-key");
    const other = { apiKey: { key: secret }, oauth: { client_secret: "plain-secret" } };
    await s.string("{s:other}:val", JSON.stringify(other));
    const wrong = createReader({ client: redis, keyPrefix: s.prefix, credsKey: wrongKey });
    assert.deepEqual(await wrong.server("other"), other);
    assert.deepEqual(await r.server("other"), { apiKey: { key: "api-key" }, oauth: { client_secret: "plain-secret" } });
    assert.throws(() => createReader({ client: redis, keyPrefix: s.prefix, credsKey: "short" }), /64 hex/);
  }));
