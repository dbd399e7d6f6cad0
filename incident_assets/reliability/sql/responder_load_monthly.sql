-- How much incident work each responder carries per month: the reportable incidents where the
-- user holds an active role assignment, by UTC month of the incident's started_at, how many of
-- them started in business, off or sleep hours of the configured time zone, and the hours the
-- user was on them. A user with several roles on one incident counts it once. Only months in
-- which the user has such an incident have a row.
--
-- columns:
--   month: calendar month (UTC) of the incident's started_at, written as its first day
--   user_id: the assigned user
--   user_name: the name in the users endpoint, else the name the assignment gives
--   incidents: reportable incidents with an active role assignment of the user
--   incidents_as_commander: those where one of the user's active roles is named like
--     'commander' (any case)
--   business_hours: those incidents that started in business hours (Monday-Friday
--     08:00-18:00 local time)
--   off_hours: those that started in off hours (weekdays 18:00-22:00, weekends 08:00-22:00)
--   sleep_hours: those that started in sleep hours (22:00-08:00 any day)
--   effort_hours: sum over those incidents of the hours from the user's earliest active
--     assignment on it to its resolution (as_of while open); 0 for an incident when that span
--     is empty or the assignment time is unknown
--
-- preview:
--   select month, user_name, incidents, incidents_as_commander, business_hours, off_hours, sleep_hours, effort_hours from {{report.responder_load_monthly}} order by month desc, incidents desc, user_name
--
-- headline:
--   select substr(cast(cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as text), 1, 7) || ' (last complete month)' as period,
--     count(distinct user_id) as responders, coalesce(sum(incidents), 0) as incident_assignments, coalesce(sum(sleep_hours), 0) as incidents_in_sleep_hours, coalesce(sum(effort_hours), 0) as effort_hours
--   from {{report.responder_load_monthly}} where month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with assignments as (
    -- Each user's assignments are collapsed per incident row first, on dlt's short row ids, and
    -- the incident's times and hours bucket are worked out once per incident (`reportable`),
    -- not once per assignment (incidents are merged on id: one row per incident).
    select
        ra._dlt_parent_id as incident_row, ra.user__id as user_id,
        max(case when lower(ra.incident_role__name) like '%commander%' then 1 else 0 end) as as_commander,
        min(ra.user__name) as assigned_name,
        extract(epoch from min(ra.created_at)) as first_assigned_epoch
    from {{raw.incidents__role_assignments}} as ra
    where lower(ra.status) = 'active' and ra.user__id is not null
    group by ra._dlt_parent_id, ra.user__id
),
reportable as (
    select i._dlt_id as incident_row, h.bucket,
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
        extract(epoch from coalesce(f.resolved_at, {{as_of}})) as end_epoch
    from {{report.incident_facts}} as f
    join {{raw.incidents}} as i on i.id = f.incident_id
    cross join lateral (select f.started_at at time zone {{timezone}} as local_start) as l
    left join {{hours_of_week}} as h
        on h.day_of_week = extract(isodow from l.local_start) and h.hour = extract(hour from l.local_start)
    where f.is_reportable
),
-- Effort from epochs, as in incident_facts: subtracting two timestamps with time zone costs
-- several times more on DuckDB. The difference in whole microseconds, then seconds as whole
-- days plus the rest of the day, bit for bit what extract(epoch from (a - b)) gives.
effort_micros as (
    select
        u.user_id, r.month, r.bucket, u.as_commander, u.assigned_name,
        round((r.end_epoch - u.first_assigned_epoch) * 1000000) as effort_us
    from assignments as u
    join reportable as r on r.incident_row = u.incident_row
),
bucketed as (
    select
        user_id, month, bucket, as_commander, assigned_name,
        greatest(coalesce(cast((effort_us - mod(effort_us, 86400000000)) / 1000000
                               + mod(effort_us, 86400000000) / 1000000 as double precision), 0), 0) / 3600
            as effort_hours
    from effort_micros
),
per_month as (
    select
        month, user_id,
        min(assigned_name) as assigned_name,
        count(*) as incidents,
        count(case when as_commander = 1 then 1 end) as incidents_as_commander,
        count(case when bucket = 'business' then 1 end) as business_hours,
        count(case when bucket = 'off' then 1 end) as off_hours,
        count(case when bucket = 'sleep' then 1 end) as sleep_hours,
        sum(effort_hours) as effort_hours
    from bucketed
    group by month, user_id
),
user_names as (
    select id, min(name) as name from {{raw.users}} group by id
)
select
    m.month, m.user_id, coalesce(u.name, m.assigned_name) as user_name,
    m.incidents, m.incidents_as_commander, m.business_hours, m.off_hours, m.sleep_hours, m.effort_hours
from per_month as m
left join user_names as u on u.id = m.user_id
