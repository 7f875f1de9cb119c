import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
};

// One or more segments of letters, digits, "_", "-" and ".", none starting with a dot: no
// traversal, no hidden files, nothing outside the root.
const SAFE_PATH = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/**
 * The files of one folder (the built web client), read on request: `/` is `index.html`. Only
 * known file types under safe paths are served. Files are small and few, so there is no cache
 * beyond the OS's.
 */
export class StaticFiles {
  constructor(private readonly root: string) {}

  /** The file for a URL path, or undefined when there is none to serve. */
  async get(urlPath: string): Promise<StaticFile | undefined> {
    const path = urlPath === "/" ? "/index.html" : urlPath;
    if (!SAFE_PATH.test(path)) return undefined;
    const contentType = TYPES[extname(path)];
    if (contentType === undefined) return undefined;
    try {
      return { body: await readFile(join(this.root, path)), contentType };
    } catch {
      return undefined;
    }
  }
}
