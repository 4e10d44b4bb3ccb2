package lint

// Cases of the rules built for issue 11 (semantic analyses): each a
// violating fixture, its fix, and near misses the rule must leave alone.

const (
	serviceRoleJWT = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJpc3MiOiAic3VwYWJhc2UiLCAicmVmIjogImFiY2RlZmdoaWprbG1ub3BxcnN0IiwgInJvbGUiOiAic2VydmljZV9yb2xlIiwgImlhdCI6IDE3MDAwMDAwMDAsICJleHAiOiAyMDAwMDAwMDAwfQ.Xy9f2kLq8Zp3Rt7Wv1Nb5Mc0Jd4Gh6Ks"
	anonJWT        = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJpc3MiOiAic3VwYWJhc2UiLCAicmVmIjogImFiY2RlZmdoaWprbG1ub3BxcnN0IiwgInJvbGUiOiAiYW5vbiIsICJpYXQiOiAxNzAwMDAwMDAwLCAiZXhwIjogMjAwMDAwMDAwMH0.Xy9f2kLq8Zp3Rt7Wv1Nb5Mc0Jd4Gh6Ks"
)

func init() {
	ruleCases = append(ruleCases,
		ruleCase{
			name: "secret_in_code",
			bad: `create table public.orders (id bigint primary key, total integer);
				create function public.orders_to_crm() returns trigger language plpgsql set search_path = '' as $$
				begin
				  perform 1 where 'Bearer ` + serviceRoleJWT + `' is not null; -- would call the CRM with it
				  return new;
				end $$;
				create function public.client_config() returns text language sql set search_path = '' as $$ select '` + anonJWT + `' $$;
				create function public.db_link_config() returns text language sql set search_path = '' as $$ select 'host=db password=${DB_PASSWORD}' $$;
				comment on table public.orders is 'Orders. The password column was removed in 2024.';`,
			fix: `create or replace function public.orders_to_crm() returns trigger language plpgsql set search_path = '' as $$
				begin return new; end $$;`,
			object: "public.orders_to_crm()", detail: "a service_role JWT (eyJhbGciOi…) in its body",
			absent: []string{"public.client_config()", "public.db_link_config()", "public.orders"},
		},
		ruleCase{
			name: "secret_in_code/trigger argument",
			bad: `create table public.orders (id bigint primary key, total integer);
				create function public.orders_webhook() returns trigger language plpgsql set search_path = '' as $$ begin return new; end $$;
				create trigger orders_webhook after insert on public.orders for each row
				  execute function public.orders_webhook('https://hooks.slack.com/services/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');`,
			fix: `drop trigger orders_webhook on public.orders;
				create trigger orders_webhook after insert on public.orders for each row execute function public.orders_webhook('orders');`,
			object: "public.orders.orders_webhook", detail: "a Slack or Discord webhook URL",
		},
		ruleCase{
			name:   "secret_in_code/database setting",
			bad:    `do $$ begin execute format('alter database %I set app.stripe_key = %L', current_database(), 'sk_live_51HxAbCdEfGh1234567890'); end $$;`,
			fix:    `do $$ begin execute format('alter database %I reset app.stripe_key', current_database()); end $$;`,
			detail: "a Stripe secret key (sk_live_51…)",
		},
		ruleCase{
			name: "auth_user_fk_blocks_deletion",
			bad: `create table public.posts (id bigint primary key, author uuid references auth.users (id));
				create table public.invoices (id bigint primary key, customer uuid references auth.users (id) on delete restrict);
				create table public.likes (id bigint primary key, user_id uuid references auth.users (id) on delete cascade);`,
			fix:    `alter table public.posts drop constraint posts_author_fkey, add constraint posts_author_fkey foreign key (author) references auth.users (id) on delete set null;`,
			object: "public.posts.posts_author_fkey", detail: "foreign key (author) references auth.users with ON DELETE NO ACTION",
			absent: []string{"public.invoices.invoices_customer_fkey", "public.likes.likes_user_id_fkey"},
		},
		ruleCase{
			name: "function_search_path_mutable",
			bad: `create function public.slugify(t text) returns text language sql immutable as $$ select lower(t) $$;
				create function public.slugify_pinned(t text) returns text language sql immutable set search_path = '' as $$ select pg_catalog.lower(t) $$;
				create schema app;
				create function app.helper(t text) returns text language sql as $$ select lower(t) $$;`,
			fix:    `alter function public.slugify(text) set search_path = '';`,
			object: "public.slugify(text)", detail: "SECURITY INVOKER sql function without SET search_path",
			absent: []string{"public.slugify_pinned(text)", "app.helper(text)"},
		},
		ruleCase{
			name: "index_left_prefix",
			bad: notesTable + `create index notes_owner_id_idx on public.notes (owner, id);
				create unique index notes_body_key on public.notes (body);
				create index notes_body_owner_idx on public.notes (body, owner);
				create index notes_lower_body_idx on public.notes (lower(body));`,
			fix:    `drop index public.notes_owner_idx;`,
			object: "public.notes_owner_idx", detail: "its columns start public.notes_owner_id_idx on public.notes",
			absent: []string{"public.notes_body_key", "public.notes_lower_body_idx", "public.notes_pkey"},
		},
		ruleCase{
			name: "validation_on_insert_only",
			bad: `create table public.listings (id bigint primary key, owner uuid not null default auth.uid(), price integer not null, title text);
				alter table public.listings enable row level security;
				grant select, insert, update (price, title) on public.listings to authenticated;
				create policy listings_update_own on public.listings for update to authenticated using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
				create function public.listings_validate() returns trigger language plpgsql set search_path = '' as $$
				begin
				  if new.price < 100 then raise exception 'price too low'; end if;
				  return new;
				end $$;
				create trigger listings_validate before insert on public.listings for each row execute function public.listings_validate();
				create table public.drafts (id bigint primary key, price integer);
				alter table public.drafts enable row level security;
				grant select, insert on public.drafts to authenticated;
				create trigger drafts_validate before insert on public.drafts for each row execute function public.listings_validate();`,
			fix: `drop trigger listings_validate on public.listings;
				create trigger listings_validate before insert or update of price on public.listings for each row execute function public.listings_validate();`,
			object: "public.listings.listings_validate", detail: "may UPDATE the columns it checks: price",
			absent: []string{"public.drafts.drafts_validate"},
		},
		ruleCase{
			name: "audit_trigger_without_old",
			bad: `create table public.accounts (id bigint primary key, balance integer);
				create table public.audit_log (at timestamptz default now(), tbl text, op text, row_data jsonb);
				create function public.audit_accounts() returns trigger language plpgsql set search_path = '' as $$
				begin
				  insert into public.audit_log (tbl, op, row_data) values (tg_table_name, tg_op, to_jsonb(new));
				  return new;
				end $$;
				create trigger accounts_audit after insert or update on public.accounts for each row execute function public.audit_accounts();
				create function public.audit_full() returns trigger language plpgsql set search_path = '' as $$
				begin
				  insert into public.audit_log (tbl, op, row_data) values (tg_table_name, tg_op, jsonb_build_object('old', to_jsonb(old), 'new', to_jsonb(new)));
				  return null;
				end $$;
				create table public.other (id bigint primary key);
				create trigger other_audit after update or delete on public.other for each row execute function public.audit_full();
				create trigger accounts_audit_insert after insert on public.accounts for each row execute function public.audit_accounts();`,
			fix: `create or replace function public.audit_accounts() returns trigger language plpgsql set search_path = '' as $$
				begin
				  insert into public.audit_log (tbl, op, row_data) values (tg_table_name, tg_op, jsonb_build_object('old', to_jsonb(old), 'new', to_jsonb(new)));
				  return new;
				end $$;`,
			object: "public.accounts.accounts_audit", detail: "fires on UPDATE, calls public.audit_accounts(), which writes rows but never reads OLD",
			absent: []string{"public.other.other_audit", "public.accounts.accounts_audit_insert"},
		},
		ruleCase{
			name: "random_for_codes",
			bad: `create table public.invites (id bigint generated always as identity primary key, code text, created_at timestamptz);
				create function public.invite_create() returns text language plpgsql set search_path = '' as $$
				declare v_code text;
				begin
				  v_code := lpad(floor(random() * 1000000)::int::text, 6, '0');
				  insert into public.invites (code) values (v_code);
				  return v_code;
				end $$;
				create function public.jitter_seconds() returns double precision language sql set search_path = '' as $$ select random() * 5 $$;
				create function public.pick_sample() returns setof public.invites language plpgsql set search_path = '' as $$
				begin return query select * from public.invites order by random() limit 10; end $$;`,
			fix: `create or replace function public.invite_create() returns text language plpgsql set search_path = '' as $$
				declare v_code text;
				begin
				  v_code := encode(gen_random_bytes(16), 'hex');
				  insert into public.invites (code) values (v_code);
				  return v_code;
				end $$;`,
			object: "public.invite_create()", detail: "assigns random() to v_code",
			absent: []string{"public.jitter_seconds()", "public.pick_sample()"},
		},
		ruleCase{
			name: "random_for_codes/column",
			bad: `create table public.coupons (id bigint generated always as identity primary key, coupon_code text);
				create function public.coupon_issue() returns void language plpgsql set search_path = '' as $$
				begin insert into public.coupons (coupon_code) values (md5(random()::text)); end $$;`,
			fix: `create or replace function public.coupon_issue() returns void language plpgsql set search_path = '' as $$
				begin insert into public.coupons (coupon_code) values (md5(gen_random_uuid()::text)); end $$;`,
			object: "public.coupon_issue()", detail: "writes random() into coupon_code",
		},
		ruleCase{
			name: "materialized_view_caller_context",
			bad: notesTable + `create materialized view public.my_note_counts as select owner, count(*) from public.notes where owner = auth.uid() group by owner;
				create materialized view public.note_counts as select owner, count(*) from public.notes group by owner;`,
			fix:    `drop materialized view public.my_note_counts;`,
			object: "public.my_note_counts", detail: "frozen at REFRESH: auth.uid()",
			absent: []string{"public.note_counts"},
		},
		ruleCase{
			name: "money_column_unbounded",
			bad: `create table public.cart_items (id bigint generated always as identity primary key, owner uuid not null default auth.uid(),
				  quantity integer not null, unit_price_cents integer not null check (unit_price_cents >= 0), price_id text, discount_at timestamptz);
				alter table public.cart_items enable row level security;
				grant select, insert, update on public.cart_items to authenticated;
				create policy cart_items_own on public.cart_items for all to authenticated using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
				create table public.ledger (id bigint primary key, amount integer);
				alter table public.ledger enable row level security;
				grant select on public.ledger to authenticated;`,
			fix:    `alter table public.cart_items add constraint cart_items_quantity_check check (quantity between 1 and 100);`,
			object: "public.cart_items.quantity", detail: "integer, no CHECK; authenticated may insert, authenticated may update it",
			absent: []string{"public.cart_items.unit_price_cents", "public.cart_items.price_id", "public.ledger.amount"},
		},
		ruleCase{
			name: "editable_auth_identity_copy",
			bad: `create table public.profiles (id uuid primary key references auth.users (id) on delete cascade, email text unique, display_name text, phone text);
				alter table public.profiles enable row level security;
				grant select, update (email, display_name, phone) on public.profiles to authenticated;
				create policy profiles_update_own on public.profiles for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
				create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
				begin insert into public.profiles (id, email) values (new.id, new.email); return new; end $$;
				create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
				create table public.accounts (id uuid primary key references auth.users (id) on delete cascade, email text unique);
				alter table public.accounts enable row level security;
				grant select, update on public.accounts to authenticated;
				create policy accounts_update_own on public.accounts for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
				create function public.accounts_protect() returns trigger language plpgsql set search_path = '' as $$
				begin
				  if current_user in ('authenticated', 'anon') and new.email is distinct from old.email then raise exception 'email is read-only'; end if;
				  return new;
				end $$;
				create trigger accounts_protect before update on public.accounts for each row execute function public.accounts_protect();`,
			fix:    `revoke update (email) on public.profiles from authenticated;`,
			object: "public.profiles.email", detail: "copied from auth.users by public.handle_new_user() and UNIQUE (profiles_email_key); authenticated may UPDATE it",
			absent: []string{"public.profiles.phone", "public.profiles.display_name", "public.accounts.email"},
		},
		ruleCase{
			name: "caller_supplied_user_id",
			bad: `create table public.posts (id bigint generated always as identity primary key, author uuid not null, body text);
				alter table public.posts enable row level security;
				create table public.members (account_id uuid, user_id uuid);
				alter table public.members enable row level security;
				create function public.post_as(user_id uuid, body text) returns void language plpgsql security definer set search_path = '' as $$
				begin
				  if auth.uid() is null then raise exception 'sign in'; end if;
				  insert into public.posts (author, body) values (post_as.user_id, post_as.body);
				end $$;
				create function public.is_account_owner(account_id uuid) returns boolean language sql security definer set search_path = '' as $$ select true $$;
				create function public.remove_member(account_id uuid, user_id uuid) returns void language plpgsql security definer set search_path = '' as $$
				begin
				  if not public.is_account_owner(remove_member.account_id) then raise exception 'owners only'; end if;
				  delete from public.members m where m.account_id = remove_member.account_id and m.user_id = remove_member.user_id;
				end $$;
				create function public.post_mine(p_user_id uuid, body text) returns void language plpgsql security definer set search_path = '' as $$
				begin
				  if p_user_id is distinct from auth.uid() then raise exception 'not you'; end if;
				  insert into public.posts (author, body) values (p_user_id, post_mine.body);
				end $$;
				grant execute on function public.post_as(uuid, text), public.remove_member(uuid, uuid), public.post_mine(uuid, text) to authenticated;`,
			fix: `create or replace function public.post_as(user_id uuid, body text) returns void language plpgsql security definer set search_path = '' as $$
				begin
				  if auth.uid() is null then raise exception 'sign in'; end if;
				  insert into public.posts (author, body) values (auth.uid(), post_as.body);
				end $$;`,
			object: "public.post_as(uuid, text)", detail: "only null-tests the caller and writes with the caller-supplied user_id",
			absent: []string{"public.remove_member(uuid, uuid)", "public.post_mine(uuid, text)"},
		},
		ruleCase{
			name: "routine_reaches_server",
			bad: `create function public.read_config(path text) returns text language sql security definer set search_path = '' as $$ select pg_read_file(path) $$;
				create function public.safe_len(t text) returns int language sql set search_path = '' as $$ select length(t) $$;
				grant execute on function public.read_config(text), public.safe_len(text) to anon;`,
			fix:    `revoke execute on function public.read_config(text) from public, anon, authenticated;`,
			object: "public.read_config(text)", detail: "calls pg_read_file()",
			absent: []string{"public.safe_len(text)"},
		},
		ruleCase{
			name: "notify_whole_row",
			bad: `create table public.orders (id bigint primary key, card_last4 text);
				create function public.orders_notify() returns trigger language plpgsql set search_path = '' as $$
				begin perform pg_notify('orders', row_to_json(new)::text); return new; end $$;
				create function public.orders_notify_id() returns trigger language plpgsql set search_path = '' as $$
				begin perform pg_notify('orders', json_build_object('id', new.id)::text); return new; end $$;`,
			fix: `create or replace function public.orders_notify() returns trigger language plpgsql set search_path = '' as $$
				begin perform pg_notify('orders', new.id::text); return new; end $$;`,
			object: "public.orders_notify()", detail: "pg_notify payload built from a whole row",
			absent: []string{"public.orders_notify_id()"},
		},
		ruleCase{
			name: "uniqueness_check_under_rls",
			bad: `create table public.handles (owner uuid not null default auth.uid(), handle text not null);
				alter table public.handles enable row level security;
				grant select, insert on public.handles to authenticated;
				create policy handles_own on public.handles for all to authenticated using (owner = (select auth.uid())) with check (owner = (select auth.uid()));
				create function public.claim_handle(h text) returns void language plpgsql set search_path = '' as $$
				begin
				  if exists (select 1 from public.handles x where x.handle = claim_handle.h) then raise exception 'taken'; end if;
				  insert into public.handles (handle) values (claim_handle.h);
				end $$;
				create table public.words (w text primary key);
				create function public.add_word(x text) returns void language plpgsql set search_path = '' as $$
				begin
				  if exists (select 1 from public.words where w = add_word.x) then raise exception 'known'; end if;
				  insert into public.words values (add_word.x);
				end $$;
				grant execute on function public.claim_handle(text), public.add_word(text) to authenticated;`,
			fix:    `alter function public.claim_handle(text) security definer;`,
			object: "public.claim_handle(text)", detail: "raises on EXISTS over tables with row level security: public.handles",
			absent: []string{"public.add_word(text)"},
		},
		ruleCase{
			// A lookup in auth.users that only decides what to write is
			// not exposure; one whose result is returned is.
			name: "auth_users_exposed/reaches the result",
			bad: `create table public.invites (email text, account uuid);
				create function public.invite(p_email text) returns void language plpgsql security definer set search_path = '' as $$
				declare v uuid;
				begin
				  select id into v from auth.users where email = p_email;
				  insert into public.invites (email, account) values (p_email, v);
				end $$;
				create function public.email_of(p_id uuid) returns text language plpgsql security definer set search_path = '' as $$
				declare v_email text;
				begin
				  select email into v_email from auth.users where id = p_id;
				  return v_email;
				end $$;
				create function public.user_exists(p_email text, out found_it boolean) language plpgsql security definer set search_path = '' as $$
				begin
				  found_it := exists (select 1 from auth.users where email = p_email);
				end $$;
				grant execute on function public.invite(text), public.email_of(uuid), public.user_exists(text) to anon;`,
			fix:    `revoke execute on function public.email_of(uuid), public.user_exists(text) from public, anon;`,
			object: "public.email_of(uuid)", detail: "reads auth.users as",
			absent: []string{"public.invite(text)"},
		},
		ruleCase{
			// Without the extension in the database (created inside the
			// lint transaction); unqualified names resolve through the
			// routine's own search_path or the database's (no false "does
			// not exist"); a trigger function is checked on every table.
			name:  "plpgsql_check_error/search_path and triggers",
			needs: "plpgsql_check",
			bad: notesTable + `create table public.drafts (id bigint primary key, body text);
				create function public.note_count() returns bigint language plpgsql as $$
				begin return (select count(*) from notes); end $$;
				create schema app;
				create table app.items (id int primary key, qty int);
				create function public.item_qty() returns int language plpgsql set search_path = app as $$
				begin return (select sum(qty) from items); end $$;
				create function public.touch_owner() returns trigger language plpgsql as $$
				begin new.owner := auth.uid(); return new; end $$;
				create trigger notes_touch before insert on public.notes for each row execute function public.touch_owner();
				create trigger drafts_touch before insert on public.drafts for each row execute function public.touch_owner();`,
			fix:    `drop trigger drafts_touch on public.drafts;`,
			object: "public.touch_owner()", detail: "(on public.drafts)",
			absent: []string{"public.note_count()", "public.item_qty()"},
		},
		ruleCase{
			name:  "plpgsql_check_warning",
			needs: "plpgsql_check",
			bad: notesTable + `create function public.note_stats(out total bigint, out mine bigint) language plpgsql as $$
				begin select count(*) into total from public.notes; end $$;
				create function public.my_notes() returns setof public.notes language plpgsql as $$
				begin return query select * from public.notes where owner = auth.uid(); end $$;`,
			fix: `create or replace function public.note_stats(out total bigint, out mine bigint) language plpgsql as $$
				begin select count(*) into total from public.notes; select count(*) into mine from public.notes where owner = auth.uid(); end $$;`,
			object: "public.note_stats()", detail: "mine",
			absent: []string{"public.my_notes()"},
		},
		ruleCase{
			// projects reads orgs, whose policies recurse with members:
			// querying projects fails too, though it is in no cycle.
			name: "policy_recursion/reaches a cycle",
			bad: `create table public.orgs (id int primary key);
				create table public.members (org_id int, user_id uuid);
				create table public.projects (id int primary key, org_id int);
				alter table public.orgs enable row level security;
				alter table public.members enable row level security;
				alter table public.projects enable row level security;
				grant select on public.orgs, public.members, public.projects to authenticated;
				create policy orgs_select_member on public.orgs for select to authenticated
				  using (id in (select m.org_id from public.members m where m.user_id = (select auth.uid())));
				create policy members_select_member on public.members for select to authenticated
				  using (org_id in (select o.id from public.orgs o));
				create policy projects_select on public.projects for select to authenticated
				  using (org_id in (select o.id from public.orgs o));`,
			fix: `create function public.my_org_ids() returns setof int language sql stable security definer set search_path = ''
				  as 'select m.org_id from public.members m where m.user_id = (select auth.uid())';
				grant execute on function public.my_org_ids() to authenticated;
				alter policy members_select_member on public.members using (org_id = any(array(select public.my_org_ids())));`,
			object: "public.projects.projects_select", detail: "reads public.orgs, whose own policies recurse",
		},
		ruleCase{
			name: "policy_helper_per_row",
			bad: notesTable + `alter table public.notes add column org_id int;
				create function public.is_org_member(org int) returns boolean language plpgsql stable security definer set search_path = '' as $$
				begin return org is not null; end $$;
				create function public.my_org_ids() returns setof int language sql stable security definer set search_path = '' as 'select 1';
				create policy notes_org on public.notes for select to authenticated using (public.is_org_member(org_id));
				create policy notes_org_set on public.notes for select to authenticated using (org_id in (select public.my_org_ids()));`,
			fix:    `drop policy notes_org on public.notes;`,
			object: "public.notes.notes_org", detail: "calls per row: public.is_org_member()",
			absent: []string{"public.notes.notes_org_set"},
		},
		ruleCase{
			name: "auth_uid_in_correlated_subquery",
			bad: notesTable + `alter table public.notes add column org_id int;
				create table public.members (org_id int, user_id uuid);
				create policy notes_member on public.notes for select to authenticated
				  using (exists (select 1 from public.members m where m.org_id = notes.org_id and m.user_id = auth.uid()));
				create policy notes_member_wrapped on public.notes for select to authenticated
				  using (exists (select 1 from public.members m where m.org_id = notes.org_id and m.user_id = (select auth.uid())));
				create policy notes_member_set on public.notes for select to authenticated
				  using (org_id in (select m.org_id from public.members m where m.user_id = auth.uid()));`,
			fix:    `drop policy notes_member on public.notes;`,
			object: "public.notes.notes_member", detail: "a correlated sub-query calls auth.uid()",
			absent: []string{"public.notes.notes_member_wrapped", "public.notes.notes_member_set"},
		},
		ruleCase{
			// Only CHECKs a row can fail as time passes.
			name: "check_constraint_not_immutable/clock direction",
			bad: `create table public.people (id int primary key,
				  born_on date check (born_on <= current_date - interval '18 years'),
				  created_at timestamptz check (created_at <= now()),
				  visit_on date check (current_date <= visit_on));`,
			fix:    `alter table public.people drop constraint people_visit_on_check;`,
			object: "public.people.people_visit_on_check", detail: "calls current_date",
			absent: []string{"public.people.people_born_on_check", "public.people.people_created_at_check"},
		},
		ruleCase{
			name: "user_column_without_fk",
			bad: `create table public.bookmarks (id bigint primary key, user_id uuid not null default auth.uid(), url text);
				alter table public.bookmarks enable row level security;
				create policy bookmarks_own on public.bookmarks for select to authenticated using (user_id = (select auth.uid()));
				create table public.likes (id bigint primary key, user_id uuid not null references auth.users (id) on delete cascade, post uuid);
				alter table public.likes enable row level security;
				create policy likes_own on public.likes for select to authenticated using (user_id = (select auth.uid()));`,
			fix:    `alter table public.bookmarks add foreign key (user_id) references auth.users (id) on delete cascade;`,
			object: "public.bookmarks", detail: "user ids without a foreign key: user_id",
			absent: []string{"public.likes"},
		},
	)
}
