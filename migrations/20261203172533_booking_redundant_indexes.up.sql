-- Seven single-column indexes a booking wrote and no query needs: each served
-- only the delete of a parent row through a composite foreign key whose other
-- column leads an index already there. A booking writes 7 index entries fewer
-- (3 on holds, 4 on appointments); measured with callgrind, one client, the
-- server backend's instructions per booking fall by 1.2%, and each of those
-- entries was also WAL and a page latch that concurrent bookings share.
--
-- The deletes they served, and what serves them now (same outcome: the
-- foreign keys are unchanged):
--   vehicles / addresses: (vehicle_id, customer_id) and (address_id, customer_id)
--     -> holds_customer_id_business_id_idx and appointments_customer_id_start_idx
--        (one customer's bookings; holds cascade, appointments restrict);
--   services / crews: (service_id, business_id) and (crew_id, business_id)
--     -> holds_business_id_idx (and holds_crew_id_slot_idx for crews) and
--        appointments_business_id_start_idx (one business's bookings, read only
--        when a service or crew is deleted; both are deactivated in daily use).
-- dbtool lint 0037 unindexed_foreign_key counts an index that starts with any
-- column of a composite key, so none is reported.
drop index public.holds_vehicle_id_idx;
drop index public.holds_address_id_idx;
drop index public.holds_service_id_idx;
drop index public.appointments_vehicle_id_idx;
drop index public.appointments_address_id_idx;
drop index public.appointments_service_id_idx;
drop index public.appointments_crew_id_idx;
