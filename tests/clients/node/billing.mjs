// The worked example of domain.md 4.7 through @servicestack/client, as an administrator:
// NewAccount, NewCustomer, ImportCalls (four Twilio calls, snake_case), four NewBillable, then
// ListUsageRecords for 2024-05-01..2024-05-31.
//   node billing.mjs <baseUrl> '{"adminUser","adminPassword","twilioAccountSid","callSids":[4],"suffix"}'
import { attempt, parseArgs, run, trackedClient, watchdog } from './lib.mjs';
import { Authenticate, ImportCalls, ListUsageRecords, NewAccount, NewBillable, NewCustomer, TwilioCall } from './dtos.mjs';

watchdog(90_000);
const { baseUrl, config: cfg } = parseArgs();

/** A Twilio Call resource as Twilio's API returns it (snake_case, RFC 2822 times, string duration). */
function twilioCall(sid, { from, to, direction, status, start, end, duration, price }) {
    return new TwilioCall({
        sid,
        account_sid: cfg.twilioAccountSid,
        parent_call_sid: null,
        from,
        to,
        direction,
        status,
        start_time: start,
        end_time: end,
        duration: String(duration),
        price,
        price_unit: 'USD',
        date_created: start,
        date_updated: end,
        answered_by: null,
        caller_name: null,
        uri: `/2010-04-01/Accounts/${cfg.twilioAccountSid}/Calls/${sid}.json`,
    });
}

function workedExampleCalls() {
    const [c1, c2, c3, c4] = cfg.callSids;
    return [
        twilioCall(c1, { from: '+14155550101', to: '+14155550199', direction: 'inbound', status: 'completed',
            start: 'Fri, 03 May 2024 10:00:00 +0000', end: 'Fri, 03 May 2024 10:01:15 +0000', duration: 75, price: '-0.01700' }),
        twilioCall(c2, { from: '+14155550102', to: '+18005550100', direction: 'inbound', status: 'completed',
            start: 'Fri, 10 May 2024 15:30:00 +0000', end: 'Fri, 10 May 2024 15:32:10 +0000', duration: 130, price: '-0.06600' }),
        twilioCall(c3, { from: '+14155550199', to: '+14155550103', direction: 'outbound-api', status: 'completed',
            start: '2024-05-20T08:00:00Z', end: '2024-05-20T08:00:30Z', duration: 30, price: '-0.01300' }),
        twilioCall(c4, { from: '+14155550199', to: '+14155550104', direction: 'outbound-api', status: 'busy',
            start: 'Thu, 30 May 2024 12:00:00 +0000', end: 'Thu, 30 May 2024 12:00:05 +0000', duration: 0, price: null }),
    ];
}

run(async () => {
    const t = trackedClient(baseUrl);
    const result = { client: 'typescript' };
    result.login = await attempt(t, c => c.post(new Authenticate({
        provider: 'credentials', userName: cfg.adminUser, password: cfg.adminPassword, rememberMe: true,
    })));
    result.account = await attempt(t, c => c.post(new NewAccount({
        name: `Worked example ${cfg.suffix}`, twilioAccountSid: cfg.twilioAccountSid, priceUnit: 'usd',
    })));
    const accountId = result.account.ok ? result.account.response.id : undefined;
    result.customer = await attempt(t, c => c.post(new NewCustomer({ accountId, name: `Customer ${cfg.suffix}` })));
    const customerId = result.customer.ok ? result.customer.response.id : undefined;
    result.import = await attempt(t, c => c.post(new ImportCalls({ calls: workedExampleCalls() })));
    result.billables = [];
    for (const callSid of cfg.callSids) {
        result.billables.push(await attempt(t, c => c.post(new NewBillable({ accountId, customerId, callSid }))));
    }
    result.usage = await attempt(t, c => c.get(new ListUsageRecords({ accountId, startDate: '2024-05-01', endDate: '2024-05-31' })));
    result.accountId = accountId ?? null;
    return result;
});
