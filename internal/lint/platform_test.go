package lint

import (
	"context"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/platform"
)

// A sound Supabase schema on both platform profiles: the only "problems"
// are the grants Supabase's default privileges leave behind (TRUNCATE,
// REFERENCES, TRIGGER, and on the older platform ALL), which no API request
// can turn into access. The CI default (--fail-on error) must pass, and the
// platform's grants are info, one finding per schema.
func TestPlatformDefaultsPassTheGate(t *testing.T) {
	for _, profile := range []string{platform.ProfileSupabase, platform.ProfileSupabaseAutoExpose} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			conn, _ := newDB(t)
			if err := platform.ApplyProfile(context.Background(), conn, profile); err != nil {
				t.Fatal(err)
			}
			execSQL(t, conn, `
create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  username text unique,
  avatar_url text
);
alter table public.profiles enable row level security;
grant select, update (username, avatar_url) on public.profiles to authenticated;
create policy profiles_select_own on public.profiles for select to authenticated using (id = (select auth.uid()));
create policy profiles_update_own on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, username) values (new.id, new.raw_user_meta_data ->> 'username');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();

create table public.todos (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  task text not null check (length(task) between 1 and 500),
  done boolean not null default false
);
create index todos_user_id_idx on public.todos (user_id);
alter table public.todos enable row level security;
grant select, insert, update, delete on public.todos to authenticated;
create policy todos_own on public.todos for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

create policy avatars_own on storage.objects for all to authenticated
  using (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid())::text);
`)
			res := lintRun(t, conn, Options{Schemas: []string{"public", "storage"}, Roles: []string{"anon", "authenticated"}})
			for _, f := range res.Findings {
				if Rank(f.Level) >= Rank("warn") {
					t.Errorf("%s %s %s: %s", f.Level, f.Rule, f.Object, f.Detail)
				}
			}
			if Exceeds(res.Findings, "error") {
				t.Fatal("the gate fails on the platform's defaults")
			}
			if got := find(res.Findings, "truncate_granted_to_api_role", "public"); len(got) != 1 || got[0].Level != "info" {
				t.Errorf("want one info finding for the schema's TRUNCATE grants, got %v", got)
			}
		})
	}
}
