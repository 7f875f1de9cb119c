#!/usr/bin/env node
// Builds the web client (clients/web) into a folder the HTTP server serves: app.js (one esbuild
// bundle of clients/web/src/main.ts and the protocol it imports), index.html and style.css.
// Usage: node scripts/build-web.mjs [outdir]   (default dist/web). Also imported by tests.
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildWeb(outdir = join(root, "dist", "web")) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(root, "clients", "web", "src", "main.ts")],
    outfile: join(outdir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  });
  for (const f of ["index.html", "style.css"]) {
    await copyFile(join(root, "clients", "web", f), join(outdir, f));
  }
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`web client built in ${out}`);
}
