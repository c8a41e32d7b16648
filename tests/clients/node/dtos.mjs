// Request and response DTOs written the way `/types/typescript` (ServiceStack's generator)
// emits them: a class per DTO with `constructor(init)`, `getTypeName()`, `getMethod()` and
// `createResponse()`. Only the members the drivers use are declared; the client serialises
// whatever the instance holds.

export class ResponseStatus {
    constructor(init) { Object.assign(this, init); }
}

export class AuthenticateResponse {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/auth")
// @Route("/auth/{provider}")
export class Authenticate {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'Authenticate'; }
    getMethod() { return 'POST'; }
    createResponse() { return new AuthenticateResponse(); }
}

/** Report/create a new billable */
// @Route("/billables", "POST")
export class NewBillable {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'NewBillable'; }
    getMethod() { return 'POST'; }
    createResponse() { }
}

export class UsageRecordInfo {
    constructor(init) { Object.assign(this, init); }
}

/** Gets all usage records for specified date range */
// @Route("/billing/usage", "GET")
export class ListUsageRecords {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'ListUsageRecords'; }
    getMethod() { return 'GET'; }
    createResponse() { return new Array(); }
}

export class AccountInfo {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/accounts", "POST")
export class NewAccount {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'NewAccount'; }
    getMethod() { return 'POST'; }
    createResponse() { return new AccountInfo(); }
}

export class CustomerInfo {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/customers", "POST")
export class NewCustomer {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'NewCustomer'; }
    getMethod() { return 'POST'; }
    createResponse() { return new CustomerInfo(); }
}

export class ListCustomersResponse {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/customers", "GET")
export class ListCustomers {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'ListCustomers'; }
    getMethod() { return 'GET'; }
    createResponse() { return new ListCustomersResponse(); }
}

/** A Twilio Call resource, with Twilio's snake_case names */
export class TwilioCall {
    constructor(init) { Object.assign(this, init); }
}

export class ImportCallsResponse {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/calls", "POST")
export class ImportCalls {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'ImportCalls'; }
    getMethod() { return 'POST'; }
    createResponse() { return new ImportCallsResponse(); }
}

export class UserInfo {
    constructor(init) { Object.assign(this, init); }
}

// @Route("/users", "POST")
export class NewUser {
    constructor(init) { Object.assign(this, init); }
    getTypeName() { return 'NewUser'; }
    getMethod() { return 'POST'; }
    createResponse() { return new UserInfo(); }
}
