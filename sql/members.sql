-- name: InvitationCreate :one
-- InvitationCreate invites an e-mail address into a business and returns the token (once).
select public.invitation_create(business_id => sqlc.arg(business_id), email => sqlc.arg(email), role => sqlc.arg(role))::text as token;

-- name: InvitationAccept :many
-- InvitationAccept makes the caller a member using an invitation token.
select * from public.invitation_accept(token => sqlc.arg(token));

-- name: InvitationRevoke :exec
-- InvitationRevoke withdraws a pending invitation (members.manage; owners for owner invitations).
select public.invitation_revoke(invitation_id => sqlc.arg(invitation_id));

-- name: InvitationList :many
-- InvitationList lists a business's invitations (token_hash is not readable by clients).
select id, business_id, email, role, expires_at, accepted_at, accepted_by, invited_by, created_at, revoked_at, revoked_by
from public.invitations where business_id = sqlc.arg(business_id) order by created_at;

-- name: MemberSetRole :many
-- MemberSetRole changes a member's role (owner only; the last owner stays).
select * from public.member_set_role(business_id => sqlc.arg(business_id), user_id => sqlc.arg(user_id), role => sqlc.arg(role));

-- name: MemberRemove :exec
-- MemberRemove removes a member (owner, or the member themself).
select public.member_remove(business_id => sqlc.arg(business_id), user_id => sqlc.arg(user_id));

-- name: MemberList :many
select * from public.business_members where business_id = sqlc.arg(business_id) order by created_at, user_id;
