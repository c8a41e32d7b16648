"""Shared helpers of the Python drivers. A driver is run as
    python <driver>.py <baseUrl> '<config json>'
and prints exactly one JSON object on stdout: what the real client returned or raised. It never
decides pass/fail itself; the Rust test asserts on the values."""

import dataclasses
import functools
import json
import signal
import sys
import traceback
from typing import Any, Callable, Dict
from urllib.parse import urlsplit

from servicestack import JsonServiceClient, WebServiceException

REQUEST_TIMEOUT_S = 20


def parse_args():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python <driver>.py <baseUrl> [config-json]\n")
        sys.exit(64)
    base_url = sys.argv[1].rstrip("/")
    cfg = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    return base_url, cfg


def emit(result: Dict[str, Any]):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def watchdog(seconds: int):
    """Ends the process with a JSON report if the driver has not finished in time."""
    def on_alarm(_signum, _frame):
        emit({"fatal": f"driver timed out after {seconds} s"})
        sys.exit(3)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)


def run(main: Callable[[], Dict[str, Any]]):
    try:
        result = main()
    except Exception:  # report, never hide
        emit({"fatal": traceback.format_exc()})
        sys.exit(2)
    emit(result)
    sys.exit(0)


class Tracked:
    """A JsonServiceClient whose requests time out and whose requests and last status are
    recorded (through the client's own request_filter/response_filter hooks)."""

    def __init__(self, base_url: str, legacy: bool = False):
        self.client = JsonServiceClient(base_url)
        if legacy:
            self.client.set_base_path(None)  # -> /json/reply/{Name}
        session = self.client._session
        session.request = functools.partial(session.request, timeout=REQUEST_TIMEOUT_S)
        self.requests = []
        self.status = None
        self.client.request_filter = self._on_request
        self.client.response_filter = self._on_response

    def _on_request(self, info):
        self.requests.append((info.method, info.url))

    def _on_response(self, res):
        self.status = res.status_code


def plain(obj: Any) -> Any:
    """A JSON-able view of what the client returned: dataclasses as camelCase dicts (their
    dataclass_json encoding, None kept), lists mapped."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj):
        if hasattr(obj, "to_dict"):
            return plain(obj.to_dict(encode_json=False))
        return plain(dataclasses.asdict(obj))
    if hasattr(obj, "name"):  # enums
        return obj.name
    return repr(obj)


def describe_error(e: Exception) -> Dict[str, Any]:
    if isinstance(e, WebServiceException):
        return {
            "kind": "WebServiceException",
            "statusCode": e.status_code,
            "statusDescription": e.status_description,
            "type": e.type.name if e.type is not None else None,
            "responseStatus": plain(e.response_status),
            "inner": repr(e.inner_exception) if e.inner_exception is not None else None,
        }
    return {"kind": type(e).__name__, "message": str(e)}


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (("?" + parts.query) if parts.query else "")


def attempt(t: Tracked, fn: Callable[[JsonServiceClient], Any]) -> Dict[str, Any]:
    """Performs one client call and reports it: {ok, status, requests, response|error}."""
    t.status = None
    before = len(t.requests)
    out: Dict[str, Any] = {}
    try:
        out["ok"] = True
        out["response"] = plain(fn(t.client))
    except Exception as e:  # noqa: BLE001 - reported to the Rust side
        out["ok"] = False
        out["error"] = describe_error(e)
        if isinstance(e, WebServiceException):
            t.status = e.status_code
    out["status"] = t.status
    out["requests"] = [f"{m} {path_of(u)}" for (m, u) in t.requests[before:]]
    return out


def cookie_names(client: JsonServiceClient):
    return sorted({c.name for c in client._session.cookies})
