// Compile-time check: node-redis clients and clusters (RESP2 and RESP3) are
// accepted by createReader without casts. Nothing connects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, createCluster } from "@redis/client";
import { isCluster } from "../src/client.js";
import { type RegistryClient, createReader } from "../src/index.js";

test("node-redis clients and clusters type-check as RegistryClient", () => {
  const clients: RegistryClient[] = [
    createClient(),
    createClient({ RESP: 3 }),
    createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] }),
    createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }], RESP: 3 }),
  ];
  for (const client of clients) assert.ok(createReader({ client, keyPrefix: "mcp:" }));
});

test("isCluster tells a cluster (own pub/sub connections) from a standalone client", () => {
  assert.equal(isCluster(createCluster({ rootNodes: [{ url: "redis://127.0.0.1:7000" }] })), true);
  assert.equal(isCluster(createClient()), false);
});
