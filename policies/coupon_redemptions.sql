-- Policies of public.coupon_redemptions. Tier 1/2 (read-only): the customer, members with catalog.manage or billing.view read; written only by coupon_redeem.

drop policy if exists coupon_redemptions_select_customer on public.coupon_redemptions;
create policy coupon_redemptions_select_customer on public.coupon_redemptions
  for select to authenticated
  using (customer_id = (select auth.uid()));
comment on policy coupon_redemptions_select_customer on public.coupon_redemptions is
  'A customer reads their own coupon redemptions.';

drop policy if exists coupon_redemptions_select_catalog_manager on public.coupon_redemptions;
create policy coupon_redemptions_select_catalog_manager on public.coupon_redemptions
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('catalog.manage'))));
comment on policy coupon_redemptions_select_catalog_manager on public.coupon_redemptions is
  'Members with catalog.manage (who manage the coupons) read their business''s redemptions.';

drop policy if exists coupon_redemptions_select_billing on public.coupon_redemptions;
create policy coupon_redemptions_select_billing on public.coupon_redemptions
  for select to authenticated
  using (business_id = any (array(select private.my_business_ids_with('billing.view'))));
comment on policy coupon_redemptions_select_billing on public.coupon_redemptions is
  'Members with billing.view read their business''s redemptions (discounts given).';

drop policy if exists coupon_redemptions_select_admin on public.coupon_redemptions;
create policy coupon_redemptions_select_admin on public.coupon_redemptions
  for select to authenticated
  using ((select private.is_platform_admin()));
comment on policy coupon_redemptions_select_admin on public.coupon_redemptions is
  'Platform admins (platform_admins, never JWT metadata) read every redemption for support; they change nothing.';
