-- Blank checks treated only spaces as blank: btrim(x) strips spaces, so a
-- name or message made of tabs and newlines passed as non-blank. Re-create
-- every such CHECK to strip tabs, carriage returns, newlines and form feeds
-- too (existing rows are validated).

alter table public.profiles drop constraint profiles_display_name_check, add constraint profiles_display_name_check check (display_name is null or char_length(btrim(display_name, E' \t\r\n\f')) between 1 and 100);
alter table public.businesses drop constraint businesses_name_check, add constraint businesses_name_check check (char_length(btrim(name, E' \t\r\n\f')) between 1 and 120);
alter table public.vehicles drop constraint vehicles_make_check, add constraint vehicles_make_check check (char_length(btrim(make, E' \t\r\n\f')) between 1 and 60);
alter table public.vehicles drop constraint vehicles_model_check, add constraint vehicles_model_check check (char_length(btrim(model, E' \t\r\n\f')) between 1 and 60);
alter table public.vehicles drop constraint vehicles_plate_check, add constraint vehicles_plate_check check (plate = upper(btrim(plate, E' \t\r\n\f')) and char_length(plate) between 1 and 16);
alter table public.addresses drop constraint addresses_label_check, add constraint addresses_label_check check (label is null or char_length(btrim(label, E' \t\r\n\f')) between 1 and 40);
alter table public.addresses drop constraint addresses_line1_check, add constraint addresses_line1_check check (char_length(btrim(line1, E' \t\r\n\f')) between 1 and 200);
alter table public.addresses drop constraint addresses_city_check, add constraint addresses_city_check check (char_length(btrim(city, E' \t\r\n\f')) between 1 and 100);
alter table public.addresses drop constraint addresses_postal_code_check, add constraint addresses_postal_code_check check (char_length(btrim(postal_code, E' \t\r\n\f')) between 1 and 16);
alter table public.services drop constraint services_name_check, add constraint services_name_check check (char_length(btrim(name, E' \t\r\n\f')) between 1 and 120);
alter table public.addons drop constraint addons_name_check, add constraint addons_name_check check (char_length(btrim(name, E' \t\r\n\f')) between 1 and 120);
alter table public.crews drop constraint crews_name_check, add constraint crews_name_check check (char_length(btrim(name, E' \t\r\n\f')) between 1 and 60);
alter table public.appointment_messages drop constraint appointment_messages_body_check, add constraint appointment_messages_body_check check (char_length(btrim(body, E' \t\r\n\f')) >= 1 and char_length(body) <= 2000);
alter table public.membership_plans drop constraint membership_plans_name_check, add constraint membership_plans_name_check check (char_length(btrim(name, E' \t\r\n\f')) between 1 and 120);
alter table public.credit_ledger drop constraint credit_ledger_reason_check, add constraint credit_ledger_reason_check check (char_length(btrim(reason, E' \t\r\n\f')) between 1 and 200);
alter table public.credit_ledger drop constraint credit_ledger_idempotency_key_check, add constraint credit_ledger_idempotency_key_check check (char_length(btrim(idempotency_key, E' \t\r\n\f')) between 1 and 200);
alter table public.coupon_redemptions drop constraint coupon_redemptions_idempotency_key_check, add constraint coupon_redemptions_idempotency_key_check check (char_length(btrim(idempotency_key, E' \t\r\n\f')) between 1 and 200);
alter table public.admin_notes drop constraint admin_notes_body_check, add constraint admin_notes_body_check check (char_length(btrim(body, E' \t\r\n\f')) >= 1 and char_length(body) <= 4000);
