-- Core billing schema. Money columns are INTEGER micro-units (1e-6 of the currency unit) so
-- that SQL sums stay exact; rates carry at most 6 decimals and billable prices 5.

CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    parent_account_id  TEXT NULL REFERENCES accounts(id),
    twilio_account_sid TEXT NOT NULL UNIQUE,
    price_unit         TEXT NOT NULL DEFAULT 'usd',
    created_at         TEXT NOT NULL
);

CREATE TABLE customers (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts(id),
    parent_customer_id TEXT NULL REFERENCES customers(id),
    name               TEXT NOT NULL,
    reference_id       TEXT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX customers_account ON customers(account_id, name, id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email         TEXT NULL COLLATE NOCASE,
    first_name    TEXT NULL,
    last_name     TEXT NULL,
    display_name  TEXT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
-- Evo Voice: an email address exists once in the whole system.
CREATE UNIQUE INDEX users_email ON users(email COLLATE NOCASE) WHERE email IS NOT NULL;

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE user_permissions (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (user_id, permission)
);

CREATE TABLE user_accounts (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (user_id, account_id)
);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    customer_id       TEXT NULL REFERENCES customers(id),
    call_sid          TEXT NULL,
    channel           TEXT NOT NULL DEFAULT 'Voice',
    from_address      TEXT NULL,
    to_address        TEXT NULL,
    parent_session_id TEXT NULL,
    date_created      TEXT NOT NULL,
    date_completed    TEXT NULL
);

CREATE TABLE calls (
    sid                 TEXT PRIMARY KEY,
    account_sid         TEXT NOT NULL,
    parent_call_sid     TEXT NULL,
    from_address        TEXT NOT NULL,
    to_address          TEXT NOT NULL,
    direction           TEXT NOT NULL,
    status              TEXT NOT NULL,
    start_time          TEXT NULL,
    end_time            TEXT NULL,
    duration_seconds    INTEGER NULL,
    provider_price      TEXT NULL,
    provider_price_unit TEXT NULL,
    imported_at         TEXT NOT NULL
);

CREATE TABLE rates (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NULL REFERENCES accounts(id),
    customer_id TEXT NULL REFERENCES customers(id),
    category    TEXT NOT NULL,
    unit_price  INTEGER NOT NULL CHECK (unit_price >= 0),
    CHECK (customer_id IS NULL OR account_id IS NOT NULL)
);
-- A plain UNIQUE would treat NULL scopes as distinct, allowing two system defaults.
CREATE UNIQUE INDEX rates_scope ON rates(ifnull(account_id, ''), ifnull(customer_id, ''), category);

CREATE TABLE billables (
    id               TEXT PRIMARY KEY,
    call_sid         TEXT NOT NULL UNIQUE REFERENCES calls(sid),
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    session_id       TEXT NULL,
    category         TEXT NOT NULL,
    usage_date       TEXT NOT NULL,
    duration_seconds INTEGER NOT NULL,
    billed           INTEGER NOT NULL,
    billed_minutes   INTEGER NOT NULL,
    rate_id          TEXT NULL,
    unit_price       INTEGER NOT NULL,
    price            INTEGER NOT NULL,
    price_unit       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE INDEX billables_account_date ON billables(account_id, usage_date);

-- One row per account, UTC day and leaf category, counting billed billables only; kept in the
-- transaction of every billable insert so usage queries never scan billables.
CREATE TABLE usage_daily (
    account_id     TEXT NOT NULL,
    usage_date     TEXT NOT NULL,
    category       TEXT NOT NULL,
    count          INTEGER NOT NULL,
    billed_minutes INTEGER NOT NULL,
    price          INTEGER NOT NULL,
    PRIMARY KEY (account_id, usage_date, category)
) WITHOUT ROWID;

-- System default per-minute prices (domain.md 4.4), in micro-units.
INSERT INTO rates (id, account_id, customer_id, category, unit_price) VALUES
    (lower(hex(randomblob(12))), NULL, NULL, 'calls-client', 4000),
    (lower(hex(randomblob(12))), NULL, NULL, 'calls-inbound-tollfree', 22000),
    (lower(hex(randomblob(12))), NULL, NULL, 'calls-inbound-local', 8500),
    (lower(hex(randomblob(12))), NULL, NULL, 'calls-outbound', 13000);
