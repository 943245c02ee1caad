-- Claims take a few due deliveries per endpoint, so one slow endpoint cannot fill a round.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due_by_webhook ON deliveries (webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
