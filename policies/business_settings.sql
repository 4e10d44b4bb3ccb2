-- Policies of public.business_settings. Tier 3 (public): anyone reads the settings (customers see cutoffs); writes only through business_setting_set.

drop policy if exists business_settings_select_public on public.business_settings;
create policy business_settings_select_public on public.business_settings
  for select to anon, authenticated
  using (true);
comment on policy business_settings_select_public on public.business_settings is
  'Anyone, signed in or not, reads business settings (caps, cutoffs, hold length).';
