// Apart from jwt-verifier.ts so that reading the settings does not load jose (a server without
// tokens never does).

/** Clock skew allowed between the token's issuer and this server on `exp` and `nbf`, ms. */
export const DEFAULT_CLOCK_TOLERANCE_MS = 30_000;

/** Shortest HS256 secret accepted, bytes: the hash's size (RFC 7518 section 3.2). */
export const MIN_SECRET_BYTES = 32;
