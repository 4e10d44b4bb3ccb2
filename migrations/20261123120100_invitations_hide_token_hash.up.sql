-- Invitation token hashes are for invitation_accept (SECURITY DEFINER) only:
-- members and invitees read every other column, never token_hash. A hash of
-- 256 random bits is not guessable, but nothing client-side needs it, and a
-- readable hash column is what the secret_column_readable lint rule flags.
revoke select on table public.invitations from authenticated;
grant select (id, business_id, email, role, expires_at, accepted_at, accepted_by, invited_by, created_at)
  on table public.invitations to authenticated;
