import { randomBytes } from "node:crypto";

/** A new stream epoch: 128 random bits as 22 base64url characters, so two stores never share one. */
export function newEpoch(): string {
  return randomBytes(16).toString("base64url");
}
