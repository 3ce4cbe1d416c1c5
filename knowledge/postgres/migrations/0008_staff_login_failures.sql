-- The staff service counts an account's failed logins of the last hour since its last successful one in
-- staff_audit (staff/postgres LoginFailures), so that every serve process on the database throttles logins
-- on the same count; this index keeps that a short range scan however long the audit log grows.
CREATE INDEX staff_audit_actor_idx ON staff_audit (actor, action, at);
