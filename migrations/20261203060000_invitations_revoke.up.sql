-- Invitations carry the authority of whoever issued them, so they must be
-- revocable and must stop working when that authority is gone. Revocation is
-- recorded, never deleted (who revoked what, and when, stays readable to the
-- business's member managers); invitation_revoke is the only write path.
alter table public.invitations
  add column revoked_at timestamptz,
  add column revoked_by uuid;
alter table public.invitations
  add constraint invitations_revoked_by_fkey
    foreign key (revoked_by) references auth.users (id) on delete set null,
  add constraint invitations_revoked_or_accepted
    check (revoked_at is null or accepted_at is null);
comment on column public.invitations.revoked_at is
  'When invitation_revoke withdrew the invitation; a revoked invitation cannot be accepted.';
comment on column public.invitations.revoked_by is
  'Who revoked it (a member with members.manage; an owner for owner invitations).';
grant select (revoked_at, revoked_by) on table public.invitations to authenticated;
