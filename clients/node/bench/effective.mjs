// Benchmark of reader.effective() (npm run bench): one user with 20 private and
// 10 shared servers (layout 2, as the worker writes it) in a Redis that also
// holds 50,000 unrelated keys; 32 concurrent reads for ~5 s on one node-redis
// client. Prints a Markdown table. Needs the Redis at REDIS_URL (default
// redis://127.0.0.1:6379; REDIS_RESP=3 for RESP3), standalone (INFO
// commandstats is read from that one server). Every key it writes is under a
// fresh prefix and deleted at the end.
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { createClient } from "@redis/client";
import { LOADED_FIELD, createReader } from "../dist/index.js";

const URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const RESP = process.env.REDIS_RESP === "3" ? 3 : 2;
const CONCURRENCY = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PRIVATE = 20;
const SHARED_APP = 5;
const SHARED_USER = 5;
const SERVERS = PRIVATE + SHARED_APP + SHARED_USER;
const UNRELATED = 50_000;
const LIBRECHAT_GETALL_CMDS = 4825; // LibreChat's SCAN-based getAll of one user in a 50k-key Redis (~104 ms)

const run = randomUUID().slice(0, 8);
const prefix = `bench:${run}:`;
const noisePrefix = `benchnoise:${run}:`;
const user = "bench-user";

/** A ~300-byte server value, as the worker stores it (config plus dbId, updatedAt, lastUpdatedAt). */
function value(name, i) {
  const v = {
    type: "streamable-http",
    url: `https://mcp.example.com/${name}/mcp`,
    title: `Server ${name}`,
    description: `Benchmark server ${name}: a config of about three hundred bytes, like a real one.`,
    headers: { "X-Client": "librechat" },
    dbId: (0x665f1c2e9b1e8a3d4c5b0000n + BigInt(i)).toString(16),
    updatedAt: 1732612800000 + i,
    lastUpdatedAt: 1732612800000 + i,
  };
  return JSON.stringify(v);
}

/** Sum of INFO commandstats calls, without INFO itself. */
async function commandCalls(admin) {
  const info = await admin.info("commandstats");
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] !== "info") total += Number(m[2]);
  }
  return total;
}

/** SCAN + UNLINK of every key under p. */
async function deleteUnder(admin, p) {
  let n = 0;
  for await (const keys of admin.scanIterator({ MATCH: `${p}*`, COUNT: 5000 })) {
    if (keys.length > 0) n += await admin.unlink(keys);
  }
  return n;
}

// Round trips: node-redis writes every command issued in one tick in one
// socket write (a setImmediate flush). The wrapper below sees each command the
// reader issues, attributes it to the read in flight (AsyncLocalStorage), and
// counts a new batch whenever the read issues a command after its last batch
// was flushed: a read's batches are its round trips (it awaits the replies of
// one before sending the next).
const als = new AsyncLocalStorage();
let clientCommands = 0;
function counting(commands) {
  return new Proxy(commands, {
    get(target, prop, receiver) {
      const f = Reflect.get(target, prop, receiver);
      if (typeof f !== "function") return f;
      return (...args) => {
        clientCommands++;
        const read = als.getStore();
        if (read && !read.open) {
          read.open = true;
          read.batches++;
          setImmediate(() => (read.open = false));
        }
        return f.apply(target, args);
      };
    },
  });
}

function ms(x) {
  return x.toFixed(2);
}
function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function main() {
  const admin = await createClient({ url: URL, RESP }).connect();
  const client = await createClient({ url: URL, RESP }).connect();
  try {
    // 1. The user's registry, as the worker writes it.
    const privateNames = Array.from({ length: PRIVATE }, (_, i) => `private-${String(i).padStart(2, "0")}`);
    const appNames = Array.from({ length: SHARED_APP }, (_, i) => `app-${i}`);
    const userTierNames = Array.from({ length: SHARED_USER }, (_, i) => `shared-user-${i}`);
    const members = { [LOADED_FIELD]: String(Date.now()) };
    for (const n of privateNames) members[n] = "1";
    const membersKey = `${prefix}{u:${user}}:m`;
    await admin.hSet(membersKey, members);
    await admin.pExpire(membersKey, 3_600_000);
    await admin.hSet(`${prefix}{shared}:app`, Object.fromEntries(appNames.map((n) => [n, "1"])));
    await admin.hSet(`${prefix}{shared}:user`, Object.fromEntries(userTierNames.map((n) => [n, "1"])));
    const all = [...privateNames, ...appNames, ...userTierNames];
    await Promise.all(all.map((n, i) => admin.set(`${prefix}{s:${n}}:val`, value(n, i))));
    const avgBytes = Math.round(all.reduce((s, n, i) => s + value(n, i).length, 0) / all.length);

    // 2. 50,000 unrelated keys (MSET in batches of 1,000).
    for (let i = 0; i < UNRELATED; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(i + 1000, UNRELATED); j++) batch.push(`${noisePrefix}k${j}`, `unrelated value ${j}`);
      await admin.mSet(batch);
    }
    const dbsize = await admin.dbSize();

    // 3. The reader, through the counting wrapper.
    const wrapped = { withTypeMapping: (m) => counting(client.withTypeMapping(m)), sSubscribe: () => Promise.reject(new Error("not in the benchmark")), sUnsubscribe: () => Promise.resolve() };
    const reader = createReader({ client: wrapped, keyPrefix: prefix });
    let bad = 0;
    const check = (view) => {
      if (!view.loaded || Object.keys(view.effective).length !== SERVERS) bad++;
    };
    for (let i = 0; i < 20; i++) check(await reader.effective(user)); // warm
    if (bad > 0) throw new Error(`warm read: expected ${SERVERS} servers`);

    const cmdsBefore = await commandCalls(admin);
    const clientBefore = clientCommands;
    const lat = [];
    let batches = 0;
    const start = performance.now();
    const deadline = start + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const read = { batches: 0, open: false };
          const t0 = performance.now();
          const view = await als.run(read, () => reader.effective(user));
          lat.push(performance.now() - t0);
          batches += read.batches;
          check(view);
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    const cmdsAfter = await commandCalls(admin);
    const reads = lat.length;
    const redisCmds = (cmdsAfter - cmdsBefore) / reads;
    const sentCmds = (clientCommands - clientBefore) / reads;
    if (bad > 0) throw new Error(`${bad} of ${reads} reads did not return ${SERVERS} servers`);
    lat.sort((a, b) => a - b);

    // 4. The table.
    console.log(
      `\n### reader.effective(): 1 user x (${PRIVATE} private + ${SHARED_APP + SHARED_USER} shared) servers, values ~${avgBytes} B, ` +
        `${UNRELATED.toLocaleString("en-US")} unrelated keys (DBSIZE ${dbsize.toLocaleString("en-US")}), ${CONCURRENCY} concurrent reads for ${elapsed.toFixed(1)} s, ` +
        `one node-redis client (RESP${RESP}), Node ${process.version}, load average ${loadavg()[0].toFixed(2)}\n`,
    );
    console.log("| reader | concurrency | reads | reads/s | p50 ms | p99 ms | Redis cmds/read | round trips/read |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
    console.log(
      `| @mcp-registry/reader effective() (@redis/client, RESP${RESP}) | ${CONCURRENCY} | ${reads.toLocaleString("en-US")} | ` +
        `${Math.round(reads / elapsed).toLocaleString("en-US")} | ${ms(pct(lat, 0.5))} | ${ms(pct(lat, 0.99))} | ${redisCmds.toFixed(2)} | ${(batches / reads).toFixed(2)} |`,
    );
    console.log(
      `\nRedis commands per read: ${redisCmds.toFixed(2)} vs ${LIBRECHAT_GETALL_CMDS.toLocaleString("en-US")} for LibreChat's SCAN-based getAll ` +
        `of one user in a 50k-key Redis (~104 ms): ${Math.round(LIBRECHAT_GETALL_CMDS / redisCmds)}x fewer, and independent of the keyspace (no SCAN).`,
    );
    console.log(
      `Commands the reader sent per read (client side): ${sentCmds.toFixed(2)} (PTTL, HGETALL x3, GET x${SERVERS}). ` +
        `Redis cmds/read is the INFO commandstats delta (all calls but INFO) over the run; it is higher when other clients use the same Redis meanwhile.`,
    );
    console.log(
      "Round trips/read: the command batches each read issued, counted by a wrapper around the reader's client " +
        "(node-redis flushes the commands of one tick in one write): PTTL + HGETALLs, then the GETs.",
    );
    if (Math.abs(redisCmds - sentCmds) > 0.05) console.log(`Note: ${((redisCmds - sentCmds) * reads).toFixed(0)} commands in the delta came from other clients.`);
  } finally {
    const a = await deleteUnder(admin, prefix);
    const b = await deleteUnder(admin, noisePrefix);
    console.log(`\nCleanup: deleted ${a} registry keys (${prefix}*) and ${b} unrelated keys (${noisePrefix}*).`);
    await client.close();
    await admin.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
