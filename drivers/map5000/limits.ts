/**
 * Sizes and times the driver holds the panel and itself to. Each cites where it comes from.
 */

/** "Requests with HTTP Content-Length higher than 30000 bytes are not supported" (README, General client requests). */
export const MAX_REQUEST_BYTES = 30_000;

/**
 * The largest answer read. The biggest one asked for is GET /users: 995 users at about 400 bytes
 * each is under 400 KiB (example in openapi.json). 2 MiB leaves room and bounds a flood.
 */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;

/** "at least 1 second between the last response and the next request" (README, General client requests). */
export const MIN_REQUEST_INTERVAL_MS = 1000;

/** "Receiving negative response codes caused by overload require a 60 seconds communication delay." (README) */
export const OVERLOAD_BACKOFF_MS = 60_000;

/** How many times a 503 is retried before giving up (our choice: two waits of a minute is already long). */
export const OVERLOAD_RETRIES = 2;

/** "If the MAP panel does not (anymore) response at all, a delay of at least 5 minutes must be considered." (README) */
export const SILENT_PANEL_BACKOFF_MINUTES = 5;
