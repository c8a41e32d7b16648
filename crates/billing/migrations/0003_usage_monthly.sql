-- Monthly roll-up of usage_daily, so that ListUsageRecords over whole months reads one row per
-- category and month instead of one per category and day (a month of usage was 124 daily rows
-- grouped through a temporary B-tree sorter).
--
-- It is kept by triggers on usage_daily rather than by the store's insert code, so that it
-- follows every way usage_daily changes (the billable insert's upsert, but also bulk loads and
-- repairs that recompute usage_daily with plain SQL) in the same transaction. `days` counts the
-- daily rows behind a monthly row: a monthly row exists exactly when at least one daily row of
-- that month exists, so whole-month reads return the same categories as daily reads would.
-- `month` is substr(usage_date, 1, 7), 'YYYY-MM' for the store's 4-digit-year dates.
CREATE TABLE usage_monthly (
    account_id     TEXT NOT NULL,
    month          TEXT NOT NULL,
    category       TEXT NOT NULL,
    days           INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    billed_minutes INTEGER NOT NULL,
    price          INTEGER NOT NULL,
    PRIMARY KEY (account_id, month, category)
) WITHOUT ROWID;

INSERT INTO usage_monthly (account_id, month, category, days, count, billed_minutes, price)
SELECT account_id, substr(usage_date, 1, 7), category, COUNT(*), SUM(count), SUM(billed_minutes),
       SUM(price)
FROM usage_daily
GROUP BY account_id, substr(usage_date, 1, 7), category;

CREATE TRIGGER usage_daily_monthly_insert AFTER INSERT ON usage_daily
BEGIN
    INSERT INTO usage_monthly (account_id, month, category, days, count, billed_minutes, price)
    VALUES (NEW.account_id, substr(NEW.usage_date, 1, 7), NEW.category, 1, NEW.count,
            NEW.billed_minutes, NEW.price)
    ON CONFLICT (account_id, month, category) DO UPDATE SET
        days = days + 1,
        count = count + excluded.count,
        billed_minutes = billed_minutes + excluded.billed_minutes,
        price = price + excluded.price;
END;

-- The billable insert's upsert lands here (same key, new sums): add the differences.
CREATE TRIGGER usage_daily_monthly_update AFTER UPDATE ON usage_daily
WHEN NEW.account_id = OLD.account_id AND NEW.usage_date = OLD.usage_date
     AND NEW.category = OLD.category
BEGIN
    UPDATE usage_monthly SET
        count = count + (NEW.count - OLD.count),
        billed_minutes = billed_minutes + (NEW.billed_minutes - OLD.billed_minutes),
        price = price + (NEW.price - OLD.price)
    WHERE account_id = NEW.account_id AND month = substr(NEW.usage_date, 1, 7)
      AND category = NEW.category;
END;

-- A changed key (nothing in the store does this, a manual repair might): move the row.
CREATE TRIGGER usage_daily_monthly_rekey AFTER UPDATE ON usage_daily
WHEN NOT (NEW.account_id = OLD.account_id AND NEW.usage_date = OLD.usage_date
          AND NEW.category = OLD.category)
BEGIN
    UPDATE usage_monthly SET
        days = days - 1,
        count = count - OLD.count,
        billed_minutes = billed_minutes - OLD.billed_minutes,
        price = price - OLD.price
    WHERE account_id = OLD.account_id AND month = substr(OLD.usage_date, 1, 7)
      AND category = OLD.category;
    DELETE FROM usage_monthly
    WHERE account_id = OLD.account_id AND month = substr(OLD.usage_date, 1, 7)
      AND category = OLD.category AND days = 0;
    INSERT INTO usage_monthly (account_id, month, category, days, count, billed_minutes, price)
    VALUES (NEW.account_id, substr(NEW.usage_date, 1, 7), NEW.category, 1, NEW.count,
            NEW.billed_minutes, NEW.price)
    ON CONFLICT (account_id, month, category) DO UPDATE SET
        days = days + 1,
        count = count + excluded.count,
        billed_minutes = billed_minutes + excluded.billed_minutes,
        price = price + excluded.price;
END;

CREATE TRIGGER usage_daily_monthly_delete AFTER DELETE ON usage_daily
BEGIN
    UPDATE usage_monthly SET
        days = days - 1,
        count = count - OLD.count,
        billed_minutes = billed_minutes - OLD.billed_minutes,
        price = price - OLD.price
    WHERE account_id = OLD.account_id AND month = substr(OLD.usage_date, 1, 7)
      AND category = OLD.category;
    DELETE FROM usage_monthly
    WHERE account_id = OLD.account_id AND month = substr(OLD.usage_date, 1, 7)
      AND category = OLD.category AND days = 0;
END;
