// LibreChat's CREDS_KEY decryption (reference: reader/decrypt.go).
import { createDecipheriv } from "node:crypto";
import { type JsonValue, getOwn, isObject, setOwn } from "./json.js";

const BLOCK = 16;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** The config paths LibreChat encrypts: an object key, then the string field inside it. */
export const ENCRYPTED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["oauth", "client_secret"],
  ["apiKey", "key"],
];

/** Decrypts AES-256-CBC text "<iv hex>:<ciphertext hex>" (PKCS#7) with CREDS_KEY. */
export class Decrypter {
  private readonly key: Buffer;

  /** credsKey is LibreChat's CREDS_KEY: 64 hex characters (32 bytes). */
  constructor(credsKey: string) {
    if (credsKey.length !== 64 || !HEX.test(credsKey)) {
      throw new Error("creds key must be 64 hex characters (32 bytes)");
    }
    this.key = Buffer.from(credsKey, "hex");
  }

  /** The plaintext of text; a text without ':' is plain and comes back as it is. Throws when it does not decrypt. */
  decrypt(text: string): string {
    const cut = text.indexOf(":");
    if (cut < 0) return text;
    const ivHex = text.slice(0, cut);
    const ctHex = text.slice(cut + 1);
    if (!HEX.test(ivHex) || ivHex.length !== 2 * BLOCK) throw new Error("decrypt: iv is not 16 bytes of hex");
    if (!HEX.test(ctHex) || ctHex.length === 0 || ctHex.length % (2 * BLOCK) !== 0) {
      throw new Error("decrypt: ciphertext is not whole blocks of hex");
    }
    const d = createDecipheriv("aes-256-cbc", this.key, Buffer.from(ivHex, "hex"));
    d.setAutoPadding(false); // checked below, exactly as the Go reader does
    const out = Buffer.concat([d.update(Buffer.from(ctHex, "hex")), d.final()]);
    const n = out[out.length - 1] ?? 0;
    if (n === 0 || n > BLOCK || !out.subarray(out.length - n).every((b) => b === n)) {
      throw new Error("decrypt: bad padding (wrong key?)");
    }
    return out.subarray(0, out.length - n).toString("utf8");
  }

  /**
   * value with its encrypted fields decrypted. A field that does not decrypt
   * (wrong key, not LibreChat's format) is left as stored: one field never
   * fails a whole view. The value is not modified in place.
   */
  decryptValue(value: JsonValue): JsonValue {
    if (!isObject(value)) return value;
    let out = value;
    for (const [outer, field] of ENCRYPTED_FIELDS) {
      const inner = getOwn(out, outer);
      if (!isObject(inner)) continue;
      const text = getOwn(inner, field);
      if (typeof text !== "string") continue;
      let plain: string;
      try {
        plain = this.decrypt(text);
      } catch {
        continue;
      }
      if (plain === text) continue;
      const innerCopy = { ...inner };
      setOwn(innerCopy, field, plain);
      if (out === value) out = { ...value };
      setOwn(out, outer, innerCopy);
    }
    return out;
  }
}
