// Shared helpers of the Node drivers. A driver is run as
//   node <driver>.mjs <baseUrl> '<config json>'
// and prints exactly one JSON object on stdout: what the real client returned or raised.
// It never decides pass/fail itself; the Rust test asserts on the values.
import { JsonServiceClient } from '@servicestack/client';

/** Milliseconds one HTTP request may take before it is aborted. */
export const REQUEST_TIMEOUT_MS = 20_000;

export function parseArgs() {
    const baseUrl = process.argv[2];
    if (!baseUrl) {
        process.stderr.write('usage: node <driver>.mjs <baseUrl> [config-json]\n');
        process.exit(64);
    }
    const config = process.argv[3] ? JSON.parse(process.argv[3]) : {};
    return { baseUrl: baseUrl.replace(/\/+$/, ''), config };
}

/** Ends the process with a JSON report if the driver has not finished in `ms`. */
export function watchdog(ms) {
    const t = setTimeout(() => {
        emit({ fatal: `driver timed out after ${ms} ms` });
        process.exit(3);
    }, ms);
    t.unref();
}

export function emit(result) {
    process.stdout.write(JSON.stringify(result) + '\n');
}

/** Runs `main` and prints its result; a crash is reported as `{fatal}` with exit code 2. */
export async function run(main) {
    try {
        const result = await main();
        emit(result);
        process.exit(0);
    } catch (e) {
        emit({ fatal: String(e && e.stack || e) });
        process.exit(2);
    }
}

/**
 * A `JsonServiceClient` whose requests time out and whose last request URL, method and
 * response status are recorded (the TS client does not attach the status to its errors, so
 * `responseFilter` is how an application sees it).
 */
export function trackedClient(baseUrl, { legacy = false } = {}) {
    const client = new JsonServiceClient(baseUrl);
    if (legacy) client.basePath = null; // -> /json/reply/{Name}
    const tracker = { client, requests: [], status: null };
    client.requestFilter = (req) => {
        req.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
        tracker.requests.push({ method: req.method, url: req.url });
    };
    client.responseFilter = (res) => { tracker.status = res.status; };
    return tracker;
}

/** The path and query of an absolute URL. */
export function pathOf(url) {
    const u = new URL(url);
    return u.pathname + u.search;
}

export function describeError(e) {
    if (e instanceof Error) {
        return { kind: 'Error', name: e.name, message: e.message };
    }
    if (e && typeof e === 'object') {
        return {
            kind: e.constructor ? e.constructor.name : 'object',
            type: e.type ?? null,
            responseStatus: e.responseStatus ?? e.ResponseStatus ?? null,
        };
    }
    return { kind: typeof e, value: String(e) };
}

/**
 * Performs one client call and reports it:
 * `{ok, status, method, path, response}` or `{ok:false, status, method, path, error}`.
 * `status` is the last HTTP status seen (after any token refresh the client did).
 */
export async function attempt(tracker, fn) {
    tracker.status = null;
    const before = tracker.requests.length;
    const out = {};
    try {
        const response = await fn(tracker.client);
        Object.assign(out, { ok: true, response: response === undefined ? '<undefined>' : response });
    } catch (e) {
        Object.assign(out, { ok: false, error: describeError(e) });
    }
    out.status = tracker.status;
    const sent = tracker.requests.slice(before);
    out.requests = sent.map(r => `${r.method} ${pathOf(r.url)}`);
    return out;
}

/** The names of the cookies the client holds (Node: its own cookie jar). */
export function cookieNames(client) {
    return Object.keys(client.cookies || {}).sort();
}
