-- id: 0046
-- name: auth_user_fk_blocks_deletion
-- level: info
-- category: correctness
-- title: Foreign key to auth.users without an ON DELETE action (account deletion fails)
-- description: A column references auth.users with the default ON DELETE NO ACTION: deleting the user
--   (the account deletion a user asks for, or an admin's) fails with 23503 as long as one such row exists,
--   usually with an error the auth server reports as a 500. An explicit ON DELETE RESTRICT is read as a
--   decision (financial records kept on purpose) and not reported.
-- remediation: Say what happens to the rows: on delete cascade (the user's own data), on delete set null
--   (history kept, author forgotten), or on delete restrict when deletion must indeed wait.
select n.nspname || '.' || c.relname || '.' || k.conname as object,
       'constraint' as object_type,
       'foreign key (' || (select string_agg(a.attname, ', ' order by x.ord) from unnest(k.conkey) with ordinality x(att, ord)
                           join pg_attribute a on a.attrelid = k.conrelid and a.attnum = x.att) ||
       ') references auth.users with ON DELETE NO ACTION' as detail
from pg_constraint k
join pg_class c on c.oid = k.conrelid
join pg_namespace n on n.oid = c.relnamespace
where k.contype = 'f'
  and k.confrelid = to_regclass('auth.users')
  and k.confdeltype = 'a'
  and not c.relispartition
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[])
