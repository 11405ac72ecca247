-- Whether the login may switch to the reader role (false when the role does not exist yet).
-- Parameter: role.
SELECT CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = %(role)s)
            THEN pg_has_role(%(role)s, 'MEMBER') ELSE false END
