// Authentication checks through @servicestack/client:
//  - no credentials -> ListUsageRecords fails with 401;
//  - credentials login (Authenticate provider "credentials"), then ListUsageRecords with only the
//    client's cookie jar, and from fresh clients holding only the session cookies
//    (ss-id/ss-pid/ss-opt) or only the JWT cookie (ss-tok);
//  - a fresh client with only `bearerToken` set (no cookies) calls ListUsageRecords;
//  - a user without roles logs in and gets 403 on ListUsageRecords.
//   node auth.mjs <baseUrl> '{"user","password","noRoleUser","noRolePassword","accountId"}'
import { attempt, cookieNames, parseArgs, run, trackedClient, watchdog } from './lib.mjs';
import { Authenticate, ListUsageRecords } from './dtos.mjs';

watchdog(90_000);
const { baseUrl, config: cfg } = parseArgs();

const usage = () => new ListUsageRecords({ accountId: cfg.accountId, startDate: '2024-05-01', endDate: '2024-05-31' });
const login = (userName, password) => c => c.post(new Authenticate({ provider: 'credentials', userName, password, rememberMe: true }));

run(async () => {
    const result = { client: 'typescript' };

    const anon = trackedClient(baseUrl);
    result.anonymous = await attempt(anon, c => c.get(usage()));

    const viaCookies = trackedClient(baseUrl);
    result.login = await attempt(viaCookies, login(cfg.user, cfg.password));
    result.loginCookies = cookieNames(viaCookies.client);
    result.cookies = await attempt(viaCookies, c => c.get(usage()));

    // Fresh clients holding only some of those cookies: the session ones, or the JWT one.
    const copyCookies = (names) => {
        const t = trackedClient(baseUrl);
        for (const n of names) if (viaCookies.client.cookies[n]) t.client.cookies[n] = viaCookies.client.cookies[n];
        return t;
    };
    const sessionOnly = copyCookies(['ss-id', 'ss-pid', 'ss-opt']);
    result.sessionCookiesOnly = await attempt(sessionOnly, c => c.get(usage()));
    result.sessionCookiesOnlyNames = cookieNames(sessionOnly.client);
    const tokenOnly = copyCookies(['ss-tok']);
    result.tokenCookieOnly = await attempt(tokenOnly, c => c.get(usage()));
    result.tokenCookieOnlyNames = cookieNames(tokenOnly.client);

    const bearer = trackedClient(baseUrl);
    const token = result.login.ok ? result.login.response.bearerToken : undefined;
    result.bearerTokenPresent = typeof token === 'string' && token.length > 0;
    bearer.client.bearerToken = token;
    result.bearer = await attempt(bearer, c => c.get(usage()));
    result.bearerCookies = cookieNames(bearer.client);

    const noRole = trackedClient(baseUrl);
    result.noRoleLogin = await attempt(noRole, login(cfg.noRoleUser, cfg.noRolePassword));
    result.noRole = await attempt(noRole, c => c.get(usage()));

    const wrong = trackedClient(baseUrl);
    result.wrongPassword = await attempt(wrong, login(cfg.user, cfg.password + '-wrong'));
    return result;
});
