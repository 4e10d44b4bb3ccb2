-- name: VerificationCodeIssue :one
-- VerificationCodeIssue issues a one-time code for an e-mail and purpose and returns it once (service_role; rate-limited).
select public.verification_code_issue(email => sqlc.arg(email), purpose => sqlc.arg(purpose))::text as code;

-- name: VerificationCodeConsume :one
-- VerificationCodeConsume checks a code: true consumes it, false counts a wrong attempt (service_role).
select public.verification_code_consume(email => sqlc.arg(email), purpose => sqlc.arg(purpose), code => sqlc.arg(code))::boolean as verified;
