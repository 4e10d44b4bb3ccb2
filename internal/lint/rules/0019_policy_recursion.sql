-- id: 0019
-- name: policy_recursion
-- level: error
-- category: security
-- title: Policy recursion (fails at run time)
-- description: A policy reads, in a sub-query, its own table, or another table whose policies read the
--   first one back (directly, through SECURITY INVOKER views, or through SECURITY INVOKER functions it
--   calls), or a table that leads (the same ways) to a table whose own policies recurse: every policy
--   that can reach a cycle, not only the cycle's own tables. Every query the policy applies to then fails with 42P17 "infinite recursion detected in
--   policy" (or, through a function, with a stack overflow): for the API the table is simply broken. An
--   INSERT, UPDATE or DELETE policy reading its own table recurses when the table's SELECT policies
--   contain a sub-query (even "(select auth.uid())"). Access through a SECURITY DEFINER function or a
--   view without security_invoker breaks the cycle and is not reported. With a live matrix, a 42P17 cell
--   confirms the finding, and a 42P17 cell the static check missed is reported as well.
-- remediation: Move the lookup into a SECURITY DEFINER function (set search_path = '', owned by the
--   table owner, stable) that reads the table past RLS, and call it from the policy, e.g.
--   using (private.is_admin()) or org_id = any(array(select private.my_org_ids())).
with recursive
api_role as (
  select oid, rolname from pg_roles where rolname = any($2::text[])
),
rel as (
  select c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity,
         quote_ident(n.nspname) || '.' || quote_ident(c.relname) as qname,
         c.relkind = 'v' and coalesce((select lower(o.option_value) in ('on', 'true', 'yes', '1')
                      from pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'), false) as invoker
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v')
    and (n.nspname = any($1::text[]) or (n.nspname !~ '^pg_' and n.nspname <> 'information_schema'))
),
pol as (
  select p.oid, p.polname, p.polrelid, p.polcmd, p.polroles,
         coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as expr
  from pg_policy p
  join rel t on t.oid = p.polrelid and t.relrowsecurity
),
pol_role as (
  select pol.oid as pol, ar.rolname as role
  from pol
  cross join api_role ar
  where exists (select 1 from unnest(pol.polroles) pr where pr = 0 or pg_has_role(ar.oid, pr, 'usage'))
),
invoker_fn as materialized (
  -- SECURITY INVOKER functions the policies call (a SECURITY DEFINER one breaks the cycle)
  select distinct f.oid, f.oid::regprocedure::text as name, f.prosrc
  from pol p
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_proc'::regclass
  join pg_proc f on f.oid = d.refobjid and not f.prosecdef
),
fn_reads as materialized (
  -- once per function, not per policy
  select f.oid as fn, f.name, r.oid as rel
  from invoker_fn f
  join rel r on strpos(lower(f.prosrc), lower(r.relname)) > 0
   and f.prosrc ~* ('(\m' || regexp_replace(r.nspname, '(\W)', '\\\1', 'g') || '\s*\.\s*|\m(from|join)\s+)"?' ||
                             regexp_replace(r.relname, '(\W)', '\\\1', 'g') || '"?($|[^\w.])')
),
-- what a policy reads: another relation in a sub-query (pg_depend), its own table in a sub-query (the
-- expression text: with search_path = pg_catalog relations are printed schema-qualified), relations
-- read by the SECURITY INVOKER functions it calls
direct_read(pol, rel, via) as (
  select p.oid, d.refobjid, ''::text collate "default"
  from pol p
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_class'::regclass
                  and d.deptype = 'n' and d.refobjid <> p.polrelid
  union
  select p.oid, p.polrelid, ''
  from pol p
  join rel t on t.oid = p.polrelid
  where p.expr ~ ('(^|[^\w."])' || regexp_replace(t.qname, '(\W)', '\\\1', 'g') || '($|[^\w."(])')
  union
  select p.oid, fr.rel, (' (through function ' || fr.name || ')') collate "default"
  from pol p
  join pg_depend d on d.classid = 'pg_policy'::regclass and d.objid = p.oid and d.refclassid = 'pg_proc'::regclass
  join fn_reads fr on fr.fn = d.refobjid
),
-- a SECURITY INVOKER view passes the caller on to the relations it reads
reads(pol, rel, via) as (
  select pol, rel, via from direct_read
  union
  select r.pol, d.refobjid, (r.via || ' (through view ' || v.nspname || '.' || v.relname || ')') collate "default"
  from reads r
  join rel v on v.oid = r.rel and v.relkind = 'v' and v.invoker
  join pg_rewrite w on w.ev_class = v.oid
  join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = w.oid and d.refclassid = 'pg_class'::regclass
                  and d.refobjid <> v.oid
),
-- reading a table under RLS applies its SELECT policies for the same role
edge(role, src, dst) as (
  select distinct pr.role, p.polrelid, r.rel
  from pol p
  join pol_role pr on pr.pol = p.oid
  join reads r on r.pol = p.oid
  join rel t on t.oid = r.rel and t.relkind in ('r', 'p') and t.relrowsecurity
  where p.polcmd in ('r', '*')
),
start(pol, role, tbl, first, via) as (
  select p.oid, pr.role, p.polrelid, r.rel, r.via
  from pol p
  join pol_role pr on pr.pol = p.oid
  join reads r on r.pol = p.oid
  join rel t on t.oid = r.rel and t.relkind in ('r', 'p') and t.relrowsecurity
),
reach(pol, role, tbl, first, via, cur) as (
  select pol, role, tbl, first, via, first from start
  union
  select w.pol, w.role, w.tbl, w.first, w.via, e.dst
  from reach w
  join edge e on e.role = w.role and e.src = w.cur
  where w.cur <> w.tbl
),
cycle as (
  select distinct w.pol, w.role, w.first, w.via
  from reach w
  join pol p on p.oid = w.pol
  where w.cur = w.tbl
    and (p.polcmd in ('r', '*')
         -- an INSERT/UPDATE/DELETE policy recurses when the table's SELECT policies have a sub-query
         or exists (select 1 from pol q join pol_role qr on qr.pol = q.oid and qr.role = w.role
                     where q.polrelid = w.tbl and q.polcmd in ('r', '*')
                       and (q.expr ~ '\mSELECT\M' or exists (select 1 from direct_read dr where dr.pol = q.oid))))
),
-- tables whose SELECT policies recurse: a policy elsewhere that reaches one fails too
cyc_tbl as (
  select distinct c.role, p.polrelid as tbl
  from cycle c join pol p on p.oid = c.pol
  where p.polcmd in ('r', '*')
),
hit(pol, role, first, via, cyc) as (
  select pol, role, first, via, null::oid from cycle
  union
  select distinct w.pol, w.role, w.first, w.via, w.cur
  from reach w
  join cyc_tbl k on k.role = w.role and k.tbl = w.cur
  where w.cur <> w.tbl
    and not exists (select 1 from cycle c where c.pol = w.pol)
)
select t.nspname || '.' || t.relname || '.' || p.polname as object,
       'policy' as object_type,
       'for ' || case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'all' end ||
       ' to ' || string_agg(distinct c.role, ', ') || ': ' ||
       (array_agg(case when c.cyc is not null then 'reads ' || f.nspname || '.' || f.relname || c.via ||
                            case when c.cyc <> c.first then ', which leads to ' || y.nspname || '.' || y.relname else '' end ||
                            ', whose own policies recurse'
                       when c.first = p.polrelid then 'reads its own table ' || t.nspname || '.' || t.relname || c.via
                       else 'reads ' || f.nspname || '.' || f.relname || c.via || ', whose policies lead back to ' ||
                            t.nspname || '.' || t.relname end ||
                  case when c.via like '%through function%' then '; queries fail with 54001 (stack depth limit exceeded)'
                       else '; queries fail with 42P17 (infinite recursion detected in policy)' end
                  order by c.cyc is null desc, c.first = p.polrelid desc, f.nspname, f.relname, c.via))[1] as detail
from hit c
join pol p on p.oid = c.pol
join rel t on t.oid = p.polrelid
join rel f on f.oid = c.first
left join rel y on y.oid = c.cyc
group by t.nspname, t.relname, p.polname, p.polcmd
