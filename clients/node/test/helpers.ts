// Test helpers: a client on the real Redis (or a Cluster), unique prefixes, cleanup.
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { createClient, createCluster } from "@redis/client";
import type { RegistryClient } from "../src/index.js";

/** The write and publish commands the tests use (the reader itself never writes). */
export interface TestRedis extends RegistryClient {
  hSet(key: string, value: Record<string, string>): Promise<number>;
  set(key: string, value: string): Promise<unknown>;
  pExpire(key: string, ms: number): Promise<unknown>;
  del(key: string): Promise<number>;
  sPublish(channel: string, message: string): Promise<number>;
  close(): Promise<unknown>;
}

/** REDIS_CLUSTER_NODES (comma-separated host:port) selects a Cluster; else REDIS_URL or 127.0.0.1:6379. REDIS_RESP=3 speaks RESP3. */
export const clusterNodes = (process.env.REDIS_CLUSTER_NODES ?? "").split(",").map((s) => s.trim()).filter(Boolean);

const RESP = process.env.REDIS_RESP === "3" ? 3 : 2;

export async function connect(): Promise<TestRedis> {
  if (clusterNodes.length > 0) {
    const cluster = createCluster({ rootNodes: clusterNodes.map((n) => ({ url: `redis://${n}` })), RESP });
    await cluster.connect();
    return cluster as unknown as TestRedis;
  }
  const client = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", RESP });
  await client.connect();
  return client as unknown as TestRedis;
}

/** Keys written under a fresh prefix, deleted by cleanup(). */
export class Scratch {
  readonly prefix = `nodetest:${randomUUID().slice(0, 8)}:`;
  private readonly written = new Set<string>();

  constructor(readonly redis: TestRedis) {}

  /** HSET prefix+key (key without the prefix), with a TTL when ttlMs > 0. */
  async hash(key: string, fields: Record<string, string>, ttlMs = 0): Promise<void> {
    this.written.add(this.prefix + key);
    await this.redis.hSet(this.prefix + key, fields);
    if (ttlMs > 0) await this.redis.pExpire(this.prefix + key, ttlMs);
  }

  /** SET prefix+key, with a TTL when ttlMs > 0. */
  async string(key: string, value: string, ttlMs = 0): Promise<void> {
    this.written.add(this.prefix + key);
    await this.redis.set(this.prefix + key, value);
    if (ttlMs > 0) await this.redis.pExpire(this.prefix + key, ttlMs);
  }

  async del(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  publish(channel: string, message: object): Promise<number> {
    return this.redis.sPublish(this.prefix + channel, JSON.stringify(message));
  }

  /** Deletes every key written (one DEL per key: on Cluster they live in different slots). */
  async cleanup(): Promise<void> {
    await Promise.all([...this.written].map((k) => this.redis.del(k)));
    this.written.clear();
  }
}

/** Resolves with p, or rejects after ms. */
export function within<T>(p: Promise<T>, ms = 3000, what = "result"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** LibreChat's encryptV2: AES-256-CBC, random IV, PKCS#7, "<iv hex>:<ciphertext hex>". */
export function encrypt(keyHex: string, plain: string): string {
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", Buffer.from(keyHex, "hex"), iv);
  return `${iv.toString("hex")}:${Buffer.concat([c.update(plain, "utf8"), c.final()]).toString("hex")}`;
}

/** Whether Node's own PKCS#7-checking decipher accepts text under keyHex. */
export function nodeDecrypts(keyHex: string, text: string): boolean {
  const [iv, ct] = text.split(":") as [string, string];
  const d = createDecipheriv("aes-256-cbc", Buffer.from(keyHex, "hex"), Buffer.from(iv, "hex"));
  try {
    d.update(Buffer.from(ct, "hex"));
    d.final();
    return true;
  } catch {
    return false;
  }
}
