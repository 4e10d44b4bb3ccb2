-- Policies of public.businesses. Tier 3 (public catalogue): anyone reads businesses; writes only through business_create / business_update.

drop policy if exists businesses_select_public on public.businesses;
create policy businesses_select_public on public.businesses
  for select to anon, authenticated
  using (true);
comment on policy businesses_select_public on public.businesses is
  'Anyone, signed in or not, reads every business (the public directory).';
