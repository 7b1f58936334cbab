import assert from "node:assert/strict";
import { test } from "node:test";
import { Keys, LOADED_FIELD, escapeId, isMember } from "../src/index.js";

test("escapeId and key names follow docs/redis-layout.md", () => {
  const k = new Keys("mcp:");
  const table: Array<[string, string]> = [
    ["u1", "mcp:{u:u1}:m"],
    ["a:b", "mcp:{u:a%3Ab}:m"],
    ["team{x}", "mcp:{u:team%7Bx%7D}:m"],
    ["50%", "mcp:{u:50%25}:m"],
    ["my server", "mcp:{u:my server}:m"],
    ["ユーザー*", "mcp:{u:ユーザー*}:m"],
  ];
  for (const [id, key] of table) assert.equal(k.userMembers(id), key, id);
  assert.equal(escapeId("%7B{}:%"), "%257B%7B%7D%3A%25");
  assert.equal(k.serverValue("gh:{x}"), "mcp:{s:gh%3A%7Bx%7D}:val");
  assert.equal(k.tier("app"), "mcp:{shared}:app");
  assert.equal(k.tier("user"), "mcp:{shared}:user");
  assert.equal(k.userFeed("a:b"), "mcp:{u:a%3Ab}:feed");
  assert.equal(k.serverFeed("s 1"), "mcp:{s:s 1}:feed");
  assert.equal(k.sharedFeed(), "mcp:{shared}:feed");
  assert.equal(new Keys("").userMembers("u"), "{u:u}:m");
});

test("isMember skips the loaded mark, tombstones and empty values", () => {
  assert.equal(isMember("gh", "3"), true);
  assert.equal(isMember("gh", "-3"), false);
  assert.equal(isMember("gh", ""), false);
  assert.equal(isMember("gh", null), false);
  assert.equal(isMember(LOADED_FIELD, "1732612800000"), false);
  assert.equal(LOADED_FIELD, "\u0000loaded");
});
