"""Request and response DTOs written the way `/types/python` (ServiceStack's generator) emits
them: `@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)` dataclasses
with Optional fields, request DTOs marked with `IReturn[T]`/`IReturnVoid` and the verb marker.
Only the members the drivers use are declared."""

from dataclasses import dataclass, field
from typing import List, Optional

from dataclasses_json import LetterCase, Undefined, config, dataclass_json
from servicestack import IGet, IPost, IReturn, IReturnVoid


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class NewBillable(IReturnVoid, IPost):
    """Report/create a new billable"""
    account_id: Optional[str] = None
    customer_id: Optional[str] = None
    session_id: Optional[str] = None
    call_sid: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class UsageRecordInfo:
    account_sid: Optional[str] = None
    category: Optional[str] = None
    count: Optional[int] = None
    count_unit: Optional[str] = None
    description: Optional[str] = None
    end_date: Optional[str] = None
    price: Optional[float] = None
    price_unit: Optional[str] = None
    start_date: Optional[str] = None
    usage: Optional[str] = None
    usage_unit: Optional[str] = None
    uri: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ListUsageRecords(IReturn[List[UsageRecordInfo]], IGet):
    """Gets all usage records for specified date range"""
    account_id: Optional[str] = None
    start_date: Optional[str] = None
    end_date: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class AccountInfo:
    id: Optional[str] = None
    name: Optional[str] = None
    twilio_account_sid: Optional[str] = None
    price_unit: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class NewAccount(IReturn[AccountInfo], IPost):
    name: Optional[str] = None
    twilio_account_sid: Optional[str] = None
    price_unit: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class CustomerInfo:
    id: Optional[str] = None
    account_id: Optional[str] = None
    parent_customer_id: Optional[str] = None
    name: Optional[str] = None
    reference_id: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class NewCustomer(IReturn[CustomerInfo], IPost):
    account_id: Optional[str] = None
    parent_customer_id: Optional[str] = None
    name: Optional[str] = None
    reference_id: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ListCustomersResponse:
    items: Optional[List[CustomerInfo]] = None
    total_count: Optional[int] = None
    total_pages: Optional[int] = None
    has_more_pages: Optional[bool] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ListCustomers(IReturn[ListCustomersResponse], IGet):
    account_id: Optional[str] = None
    page: Optional[int] = None
    page_size: Optional[int] = None


@dataclass_json(letter_case=LetterCase.SNAKE, undefined=Undefined.EXCLUDE)
@dataclass
class TwilioCall:
    """A Twilio Call resource, with Twilio's snake_case names"""
    sid: Optional[str] = None
    account_sid: Optional[str] = None
    parent_call_sid: Optional[str] = None
    from_: Optional[str] = field(default=None, metadata=config(field_name="from"))
    to: Optional[str] = None
    direction: Optional[str] = None
    status: Optional[str] = None
    start_time: Optional[str] = None
    end_time: Optional[str] = None
    duration: Optional[str] = None
    price: Optional[str] = None
    price_unit: Optional[str] = None
    date_created: Optional[str] = None
    date_updated: Optional[str] = None
    answered_by: Optional[str] = None
    caller_name: Optional[str] = None
    uri: Optional[str] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ImportCallsResponse:
    imported: Optional[int] = None
    updated: Optional[int] = None


@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ImportCalls(IReturn[ImportCallsResponse], IPost):
    calls: Optional[List[TwilioCall]] = None
