-- Per user and month of the incident's started_at: reportable incidents where the user has an
-- active role assignment, those as commander (role name containing commander, any case), and
-- those that started outside 08:00-18:00 Monday-Friday UTC. user_name comes from the users
-- endpoint, else from the assignment.
--
-- columns:
--   month: calendar month (UTC) of the incident's start, written as its first day
--   user_id: the responder
--   user_name: the responder's name
--   incidents: reportable incidents with an active role of the user
--   incidents_as_commander: those where one of the user's roles is named like commander
--   incidents_off_hours: those that started outside 08:00-18:00 Monday-Friday UTC
--
-- preview:
--   select month, user_name, incidents, incidents_as_commander, incidents_off_hours
--   from {{report.responder_load_monthly}} order by month desc, incidents desc, user_name
with assignments as (
    select
        f.incident_id, f.started_at, ra.user__id as user_id, ra.user__name as assigned_name,
        lower(ra.incident_role__name) like '%commander%' as is_commander
    from {{report.incident_facts}} as f
    join {{raw.incidents}} as i on i.id = f.incident_id
    join {{raw.incidents__role_assignments}} as ra on ra._dlt_parent_id = i._dlt_id
    where f.is_reportable and lower(ra.status) = 'active' and ra.user__id is not null
),
-- one row per user and incident (a user with several roles counts the incident once), so the
-- counts below need no distinct and the month / off-hours are computed once per row
user_incidents as (
    select user_id, incident_id, started_at,
        max(case when is_commander then 1 else 0 end) as as_commander,
        min(assigned_name) as assigned_name
    from assignments
    group by user_id, incident_id, started_at
),
per_month as (
    select
        cast(date_trunc('month', started_at at time zone 'UTC') as date) as month, user_id,
        min(assigned_name) as assigned_name,
        count(*) as incidents,
        count(case when as_commander = 1 then 1 end) as incidents_as_commander,
        count(case when extract(isodow from started_at at time zone 'UTC') >= 6
                     or extract(hour from started_at at time zone 'UTC') < 8
                     or extract(hour from started_at at time zone 'UTC') >= 18 then 1 end) as incidents_off_hours
    from user_incidents
    group by 1, user_id
),
user_names as (
    select id, min(name) as name from {{raw.users}} group by id
)
select
    m.month, m.user_id, coalesce(u.name, m.assigned_name) as user_name,
    m.incidents, m.incidents_as_commander, m.incidents_off_hours
from per_month as m
left join user_names as u on u.id = m.user_id
