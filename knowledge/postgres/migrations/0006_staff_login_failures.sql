-- The staff service counts an account's failed logins since its last successful one in staff_audit
-- (staff/postgres LoginFailures), so that every serve process on the database throttles logins on the same
-- count.
CREATE INDEX staff_audit_actor_idx ON staff_audit (actor, action, id);
