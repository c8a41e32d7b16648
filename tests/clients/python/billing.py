"""The worked example of domain.md 4.7 through the Python `servicestack` client, as an
administrator: NewAccount, NewCustomer, ImportCalls (four Twilio calls, snake_case), four
NewBillable, then ListUsageRecords for 2024-05-01..2024-05-31.
    python billing.py <baseUrl> '{"adminUser","adminPassword","twilioAccountSid","callSids":[4],"suffix"}'"""

from servicestack import Authenticate

from common import Tracked, attempt, parse_args, run, watchdog
from dtos import ImportCalls, ListUsageRecords, NewAccount, NewBillable, NewCustomer, TwilioCall

watchdog(90)
BASE_URL, CFG = parse_args()


def twilio_call(sid, from_, to, direction, status, start, end, duration, price):
    """A Twilio Call resource as Twilio's API returns it (snake_case, RFC 2822 times, string duration)."""
    return TwilioCall(
        sid=sid, account_sid=CFG["twilioAccountSid"], parent_call_sid=None, from_=from_, to=to,
        direction=direction, status=status, start_time=start, end_time=end, duration=str(duration),
        price=price, price_unit="USD", date_created=start, date_updated=end,
        uri=f"/2010-04-01/Accounts/{CFG['twilioAccountSid']}/Calls/{sid}.json")


def worked_example_calls():
    c1, c2, c3, c4 = CFG["callSids"]
    return [
        twilio_call(c1, "+14155550101", "+14155550199", "inbound", "completed",
                    "Fri, 03 May 2024 10:00:00 +0000", "Fri, 03 May 2024 10:01:15 +0000", 75, "-0.01700"),
        twilio_call(c2, "+14155550102", "+18005550100", "inbound", "completed",
                    "Fri, 10 May 2024 15:30:00 +0000", "Fri, 10 May 2024 15:32:10 +0000", 130, "-0.06600"),
        twilio_call(c3, "+14155550199", "+14155550103", "outbound-api", "completed",
                    "2024-05-20T08:00:00Z", "2024-05-20T08:00:30Z", 30, "-0.01300"),
        twilio_call(c4, "+14155550199", "+14155550104", "outbound-api", "busy",
                    "Thu, 30 May 2024 12:00:00 +0000", "Thu, 30 May 2024 12:00:05 +0000", 0, None),
    ]


def main():
    t = Tracked(BASE_URL)
    result = {"client": "python"}
    result["login"] = attempt(t, lambda c: c.post(Authenticate(
        provider="credentials", user_name=CFG["adminUser"], password=CFG["adminPassword"], remember_me=True)))
    result["account"] = attempt(t, lambda c: c.post(NewAccount(
        name=f"Worked example {CFG['suffix']}", twilio_account_sid=CFG["twilioAccountSid"], price_unit="usd")))
    account_id = result["account"]["response"]["id"] if result["account"]["ok"] else None
    result["customer"] = attempt(t, lambda c: c.post(NewCustomer(account_id=account_id, name=f"Customer {CFG['suffix']}")))
    customer_id = result["customer"]["response"]["id"] if result["customer"]["ok"] else None
    result["import"] = attempt(t, lambda c: c.post(ImportCalls(calls=worked_example_calls())))
    result["billables"] = [
        attempt(t, lambda c, sid=sid: c.post(NewBillable(account_id=account_id, customer_id=customer_id, call_sid=sid)))
        for sid in CFG["callSids"]
    ]
    result["usage"] = attempt(t, lambda c: c.get(ListUsageRecords(
        account_id=account_id, start_date="2024-05-01", end_date="2024-05-31")))
    result["accountId"] = account_id
    return result


run(main)
