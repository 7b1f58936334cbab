// Conformance suite shared with the Go reader: fixtures in testdata/conformance/*.json.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type JsonValue, type View, createReader } from "../src/index.js";
import { Scratch, type TestRedis, clusterNodes, connect } from "./helpers.js";

interface FixtureKey {
  key: string;
  type: "hash" | "string";
  value: Record<string, string> | string;
  ttlMs: number;
}

interface Fixture {
  name: string;
  credsKey: string;
  keys: FixtureKey[];
  views: Record<string, Pick<View, "loaded" | "private" | "effective">>;
  servers: Record<string, JsonValue | null>;
}

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const sample = join(pkg, "test/sample-fixture.json");
const given = process.env.CONFORMANCE_DIR;
const dir = given ? resolve(given) : resolve(pkg, "../../testdata/conformance");

function fixturesIn(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(d, f));
}

const found = fixturesIn(dir);
const files = [sample, ...found];

let redis: TestRedis;
before(async () => {
  redis = await connect();
});
after(async () => {
  await redis.close();
});

test(`conformance fixtures in ${dir}`, (t) => {
  if (given && found.length === 0) {
    assert.fail(`CONFORMANCE_DIR=${given} holds no *.json fixture: nothing to check`);
  }
  if (found.length === 0) t.skip(`no fixtures yet in ${dir}; only the sample fixture runs`);
});

for (const file of files) {
  const fx = JSON.parse(readFileSync(file, "utf8")) as Fixture;
  describe(`${fx.name} (${file === sample ? "sample" : file}${clusterNodes.length ? ", cluster" : ""})`, () => {
    let s: Scratch;
    before(async () => {
      s = new Scratch(redis);
      for (const k of fx.keys) {
        if (k.type === "hash" && typeof k.value === "object") await s.hash(k.key, k.value, k.ttlMs);
        else if (k.type === "string" && typeof k.value === "string") await s.string(k.key, k.value, k.ttlMs);
        else throw new Error(`${file}: key ${k.key}: type ${k.type} with a ${typeof k.value} value`);
      }
    });
    after(() => s.cleanup());
    const reader = () => createReader({ client: redis, keyPrefix: s.prefix, ...(fx.credsKey ? { credsKey: fx.credsKey } : {}) });

    for (const [userId, want] of Object.entries(fx.views)) {
      test(`effective(${JSON.stringify(userId)})`, async () => {
        const r = reader();
        const got = await r.effective(userId);
        assert.equal(got.userId, userId);
        assert.equal(got.loaded, want.loaded, "loaded");
        assert.ok(want.loaded ? got.expiresInMs > 0 : got.expiresInMs === 0, `expiresInMs ${got.expiresInMs}`);
        assert.deepStrictEqual(got.private, want.private, "private");
        assert.deepStrictEqual(got.effective, want.effective, "effective");
        // lookup() agrees with the view for every name the fixture knows.
        const names = new Set([...Object.keys(want.effective), ...Object.keys(fx.servers)]);
        for (const name of names) {
          assert.deepStrictEqual(await r.lookup(userId, name), want.effective[name] ?? null, `lookup(${userId}, ${name})`);
        }
        assert.deepStrictEqual(await r.private(userId), { private: want.private, loaded: want.loaded });
        assert.equal((await r.loaded(userId)).loaded, want.loaded);
      });
    }

    for (const [name, want] of Object.entries(fx.servers)) {
      test(`server(${JSON.stringify(name)})`, async () => {
        assert.deepStrictEqual(await reader().server(name), want);
      });
    }
  });
}
