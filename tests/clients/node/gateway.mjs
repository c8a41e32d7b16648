// Gateway checks through @servicestack/client: GET and POST on /api/{Name} (the default) and on
// /json/reply/{Name} (basePath = null), a void POST (204), a validation error surfacing in the
// thrown ResponseStatus, a batch (sendAll -> POST {Name}[]), and a POST from
// JsonApiClient.create() (which sends its JSON body as text/plain).
//   node gateway.mjs <baseUrl> '{"adminUser","adminPassword","accountId","customerId","callSid","suffix"}'
import { JsonApiClient } from '@servicestack/client';
import { attempt, parseArgs, run, trackedClient, watchdog } from './lib.mjs';
import { Authenticate, ListCustomers, NewBillable, NewCustomer } from './dtos.mjs';

watchdog(90_000);
const { baseUrl, config: cfg } = parseArgs();

async function routeChecks(t, label) {
    const out = {};
    out.get = await attempt(t, c => c.get(new ListCustomers({ accountId: cfg.accountId, pageSize: 1000 })));
    out.post = await attempt(t, c => c.post(new NewCustomer({
        accountId: cfg.accountId, name: `ts-${label}-${cfg.suffix}`, referenceId: `ref-${label}`,
    })));
    out.error = await attempt(t, c => c.post(new NewBillable({
        accountId: cfg.accountId, customerId: cfg.customerId, callSid: 'not-a-call-sid',
    })));
    out.batch = await attempt(t, c => c.sendAll([
        new NewCustomer({ accountId: cfg.accountId, name: `ts-${label}-batch1-${cfg.suffix}` }),
        new NewCustomer({ accountId: cfg.accountId, name: `ts-${label}-batch2-${cfg.suffix}` }),
    ]));
    return out;
}

run(async () => {
    const t = trackedClient(baseUrl);
    const result = { client: 'typescript' };
    result.login = await attempt(t, c => c.post(new Authenticate({
        provider: 'credentials', userName: cfg.adminUser, password: cfg.adminPassword, rememberMe: true,
    })));
    result.api = await routeChecks(t, 'api');
    result.api.void = await attempt(t, c => c.post(new NewBillable({
        accountId: cfg.accountId, customerId: cfg.customerId, callSid: cfg.callSid,
    })));
    t.client.basePath = null; // legacy: /json/reply/{Name}
    result.reply = await routeChecks(t, 'reply');
    // the same billable again is idempotent: 204 again
    result.reply.void = await attempt(t, c => c.post(new NewBillable({
        accountId: cfg.accountId, customerId: cfg.customerId, callSid: cfg.callSid,
    })));

    // JsonApiClient.create(): no default headers, so Node sends the JSON body as
    // text/plain;charset=UTF-8 (clients.md 1.4); authenticated with the login's bearer token.
    const apiClient = JsonApiClient.create(baseUrl);
    const tracked = { client: apiClient, requests: [], status: null };
    apiClient.requestFilter = req => { req.signal = AbortSignal.timeout(20_000); tracked.requests.push({ method: req.method, url: req.url }); };
    apiClient.responseFilter = res => { tracked.status = res.status; };
    apiClient.bearerToken = result.login.ok ? result.login.response.bearerToken : undefined;
    result.jsonApiClient = await attempt(tracked, c => c.post(new NewCustomer({
        accountId: cfg.accountId, name: `ts-jsonapiclient-${cfg.suffix}`,
    })));
    return result;
});
