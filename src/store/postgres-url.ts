/**
 * `postgres://host:port/database`: the URL without user, password or parameters, for logs. Apart
 * from postgres-store.ts so that parsing `--store` does not load the pg driver.
 */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "postgres";
  }
}
