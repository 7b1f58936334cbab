import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { Decrypter, type JsonValue } from "../src/index.js";
import { encrypt, nodeDecrypts } from "./helpers.js";

const KEY = randomBytes(32).toString("hex");
const OTHER = randomBytes(32).toString("hex");

test("decrypts a vector made with node:crypto, including unicode and block-sized text", () => {
  const d = new Decrypter(KEY);
  for (const plain of ["s3cret", "", "0123456789abcdef", "clé 秘密 🔑"]) {
    assert.equal(d.decrypt(encrypt(KEY, plain)), plain);
  }
  assert.equal(d.decrypt("plain-no-colon"), "plain-no-colon");
  assert.equal(new Decrypter(KEY.toUpperCase()).decrypt(encrypt(KEY, "x")), "x");
});

test("rejects bad keys and malformed texts", () => {
  assert.throws(() => new Decrypter("abc"), /64 hex/);
  assert.throws(() => new Decrypter("zz".repeat(32)), /64 hex/);
  const d = new Decrypter(KEY);
  assert.throws(() => d.decrypt("00:00"), /iv/);
  assert.throws(() => d.decrypt(`${"0".repeat(32)}:abc`), /blocks/);
  assert.throws(() => d.decrypt(`${"0".repeat(32)}:`), /blocks/);
  assert.throws(() => d.decrypt(`${"0".repeat(32)}:${"0".repeat(31)}g`), /blocks/);
  assert.throws(() => d.decrypt(`${"0".repeat(31)}g:${"0".repeat(32)}`), /iv/);
});

test("decryptValue decrypts both fields, leaves failures and other fields as stored", () => {
  const d = new Decrypter(KEY);
  const value = {
    url: "https://x.test/mcp",
    oauth: { client_id: "id", client_secret: encrypt(KEY, "oauth-secret") },
    apiKey: { key: encrypt(KEY, "api-key"), source: "admin" },
  };
  const out = d.decryptValue(value);
  assert.deepEqual(out, {
    url: "https://x.test/mcp",
    oauth: { client_id: "id", client_secret: "oauth-secret" },
    apiKey: { key: "api-key", source: "admin" },
  });
  assert.equal(value.oauth.client_secret.includes(":"), true, "input not modified");

  // A wrong key almost always fails the padding check; when it passes by
  // chance (~1/256), the garbage comes back, as in Go. Node's own PKCS#7 check
  // says which case each vector is.
  const wrong = new Decrypter(OTHER);
  let rejected = 0;
  for (let i = 0; i < 50; i++) {
    const v = { apiKey: { key: encrypt(KEY, "api-key") } };
    const stored = JSON.stringify(v);
    const kept = JSON.stringify(wrong.decryptValue(v)) === stored;
    assert.equal(kept, !nodeDecrypts(OTHER, v.apiKey.key), v.apiKey.key);
    if (kept) rejected++;
  }
  assert.ok(rejected > 40, `wrong key left the field as stored ${rejected}/50 times`);

  const odd: JsonValue[] = [null, 1, "x", [1], { oauth: null }, { oauth: "x" }, { oauth: { client_secret: 5 } }, { apiKey: { key: "plain" } }];
  for (const v of odd) {
    assert.deepEqual(d.decryptValue(v), v);
  }
});
