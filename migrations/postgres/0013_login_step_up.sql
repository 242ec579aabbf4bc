-- A sign-in started as a step-up asks the provider to authenticate again (prompt=login,
-- max_age=0): `fresh`, or `level2` when level 2 is needed too. Its ID token must then carry an
-- auth_time from after the sign-in started.
alter table login_attempts add column step_up text;
