"""Gateway checks through the Python `servicestack` client: GET and POST on /api/{Name} (the
default) and on /json/reply/{Name} (set_base_path(None)), a void POST (204), a validation error
surfacing in WebServiceException, and a batch (send_all -> POST {Name}%5B%5D).
    python gateway.py <baseUrl> '{"adminUser","adminPassword","accountId","customerId","callSid","suffix"}'"""

from servicestack import Authenticate

from common import Tracked, attempt, parse_args, run, watchdog
from dtos import ListCustomers, NewBillable, NewCustomer

watchdog(90)
BASE_URL, CFG = parse_args()


def route_checks(t: Tracked, label: str):
    out = {}
    out["get"] = attempt(t, lambda c: c.get(ListCustomers(account_id=CFG["accountId"], page_size=1000)))
    out["post"] = attempt(t, lambda c: c.post(NewCustomer(
        account_id=CFG["accountId"], name=f"py-{label}-{CFG['suffix']}", reference_id=f"ref-{label}")))
    out["error"] = attempt(t, lambda c: c.post(NewBillable(
        account_id=CFG["accountId"], customer_id=CFG["customerId"], call_sid="not-a-call-sid")))
    out["batch"] = attempt(t, lambda c: c.send_all([
        NewCustomer(account_id=CFG["accountId"], name=f"py-{label}-batch1-{CFG['suffix']}"),
        NewCustomer(account_id=CFG["accountId"], name=f"py-{label}-batch2-{CFG['suffix']}"),
    ]))
    return out


def main():
    t = Tracked(BASE_URL)
    result = {"client": "python"}
    result["login"] = attempt(t, lambda c: c.post(Authenticate(
        provider="credentials", user_name=CFG["adminUser"], password=CFG["adminPassword"], remember_me=True)))
    result["api"] = route_checks(t, "api")
    result["api"]["void"] = attempt(t, lambda c: c.post(NewBillable(
        account_id=CFG["accountId"], customer_id=CFG["customerId"], call_sid=CFG["callSid"])))
    t.client.set_base_path(None)  # legacy: /json/reply/{Name}
    result["reply"] = route_checks(t, "reply")
    # the same billable again is idempotent: 204 again
    result["reply"]["void"] = attempt(t, lambda c: c.post(NewBillable(
        account_id=CFG["accountId"], customer_id=CFG["customerId"], call_sid=CFG["callSid"])))
    return result


run(main)
