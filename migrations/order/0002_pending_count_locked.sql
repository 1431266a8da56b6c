-- A user's PENDING orders, counted under the user's advisory lock. The function is VOLATILE, so
-- its count takes a snapshot of its own after the lock is held: an order insert can check the cap
-- in one statement and still see every order committed by the insert that held the lock before it.
-- PL/pgSQL keeps its plans for the session; a SQL-language function would plan them on each call.
CREATE FUNCTION "order"."pending_orders_locked"(buyer uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('order.pending.' || buyer::text));
  RETURN (SELECT count(*) FROM "order"."orders" WHERE "user_id" = buyer AND "status" = 'PENDING');
END
$$;
