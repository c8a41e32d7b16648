"""Authentication checks through the Python `servicestack` client:
 - no credentials -> ListUsageRecords raises WebServiceException 401;
 - credentials login (Authenticate provider "credentials"), then ListUsageRecords with only the
   requests.Session cookie jar, and from fresh clients holding only the session cookies
   (ss-id/ss-pid/ss-opt) or only the JWT cookie (ss-tok);
 - a fresh client with only `bearer_token` set (no cookies) calls ListUsageRecords;
 - a user without roles logs in and gets 403 on ListUsageRecords.
    python auth.py <baseUrl> '{"user","password","noRoleUser","noRolePassword","accountId"}'"""

from servicestack import Authenticate

from common import Tracked, attempt, cookie_names, parse_args, run, watchdog
from dtos import ListUsageRecords

watchdog(90)
BASE_URL, CFG = parse_args()


def usage():
    return ListUsageRecords(account_id=CFG["accountId"], start_date="2024-05-01", end_date="2024-05-31")


def login(user, password):
    return lambda c: c.post(Authenticate(provider="credentials", user_name=user, password=password, remember_me=True))


def main():
    result = {"client": "python"}

    anon = Tracked(BASE_URL)
    result["anonymous"] = attempt(anon, lambda c: c.get(usage()))

    via_cookies = Tracked(BASE_URL)
    result["login"] = attempt(via_cookies, login(CFG["user"], CFG["password"]))
    result["loginCookies"] = cookie_names(via_cookies.client)
    result["cookies"] = attempt(via_cookies, lambda c: c.get(usage()))

    # Fresh clients holding only some of those cookies: the session ones, or the JWT one.
    def copy_cookies(names):
        t = Tracked(BASE_URL)
        for cookie in via_cookies.client._session.cookies:
            if cookie.name in names:
                t.client._session.cookies.set_cookie(cookie)
        return t

    session_only = copy_cookies({"ss-id", "ss-pid", "ss-opt"})
    result["sessionCookiesOnly"] = attempt(session_only, lambda c: c.get(usage()))
    result["sessionCookiesOnlyNames"] = cookie_names(session_only.client)
    token_only = copy_cookies({"ss-tok"})
    result["tokenCookieOnly"] = attempt(token_only, lambda c: c.get(usage()))
    result["tokenCookieOnlyNames"] = cookie_names(token_only.client)

    bearer = Tracked(BASE_URL)
    token = (result["login"].get("response") or {}).get("bearerToken") if result["login"]["ok"] else None
    result["bearerTokenPresent"] = isinstance(token, str) and len(token) > 0
    bearer.client.set_bearer_token(token)
    result["bearer"] = attempt(bearer, lambda c: c.get(usage()))
    result["bearerCookies"] = cookie_names(bearer.client)

    no_role = Tracked(BASE_URL)
    result["noRoleLogin"] = attempt(no_role, login(CFG["noRoleUser"], CFG["noRolePassword"]))
    result["noRole"] = attempt(no_role, lambda c: c.get(usage()))

    wrong = Tracked(BASE_URL)
    result["wrongPassword"] = attempt(wrong, login(CFG["user"], CFG["password"] + "-wrong"))
    return result


run(main)
