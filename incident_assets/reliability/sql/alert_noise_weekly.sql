-- How noisy is alerting, and for which team? Alerts by ISO week (Monday, UTC) of starts_at and
-- team, plus team_id = 'all': how many fired, how many became (were linked to) incidents, when
-- they fired (business, off or sleep hours in the configured time zone) and their median
-- length. Many alerts with a low linked_pct are noise a team can act on. Every loaded alert
-- counts (as_of plays no part); only weeks with an alert have rows, one per team seen that week
-- plus 'all'; an alert without starts_at is left out.
--
-- columns:
--   week: ISO week (UTC) of the alert's starts_at, written as its Monday
--   team_id: the alert's team; 'none' when it has none; 'all' for every alert of the week
--   team_name: the team's name as the alerts give it (its id when they give none); 'none' or
--     'all' with those team ids
--   alerts: alerts that started in the week
--   linked_to_incident: of those, alerts linked to at least one incident
--   linked_pct: 100 * linked_to_incident / alerts
--   business_hours: alerts that started in business hours (Monday-Friday 08:00-18:00 local
--     time)
--   off_hours: alerts that started in off hours (weekdays 18:00-22:00, weekends 08:00-22:00)
--   sleep_hours: alerts that started in sleep hours (22:00-08:00 any day)
--   p50_minutes: median minutes from starts_at to ends_at over the alerts with both; NULL when
--     none
--
-- preview:
--   select week, team_name, alerts, linked_to_incident, linked_pct, business_hours, off_hours, sleep_hours, p50_minutes from {{report.alert_noise_weekly}} order by week desc, alerts desc, team_name
--
-- headline:
--   select 'week of ' || min(cast(week as text)) || ' (the latest week with alerts)' as period, coalesce(sum(alerts), 0) as alerts, coalesce(sum(linked_to_incident), 0) as linked_to_incident, coalesce(sum(sleep_hours), 0) as alerts_in_sleep_hours from {{report.alert_noise_weekly}} where team_id = 'all' and week = (select max(week) from {{report.alert_noise_weekly}})
with linked as (
    select distinct _dlt_parent_id as alert_row from {{raw.alerts__incidents}} where id is not null
),
alerts as (
    select
        cast(date_trunc('week', a.starts_at at time zone 'UTC') as date) as week,
        coalesce(nullif(a.team_id, ''), 'none') as team_id,
        case when nullif(a.team_id, '') is null then 'none' else coalesce(a.team_name, a.team_id) end as team_name,
        l.alert_row is not null as is_linked,
        h.bucket,
        cast(extract(epoch from (a.ends_at - a.starts_at)) as double precision) / 60 as minutes
    from {{raw.alerts}} as a
    left join linked as l on l.alert_row = a._dlt_id
    left join {{hours_of_week}} as h
        on h.day_of_week = extract(isodow from a.starts_at at time zone {{timezone}})
        and h.hour = extract(hour from a.starts_at at time zone {{timezone}})
    where a.starts_at is not null
)
select
    week,
    case when grouping(team_id) = 1 then 'all' else team_id end as team_id,
    case when grouping(team_id) = 1 then 'all' else min(team_name) end as team_name,
    count(*) as alerts,
    count(case when is_linked then 1 end) as linked_to_incident,
    cast(100 * count(case when is_linked then 1 end) as double precision) / count(*) as linked_pct,
    count(case when bucket = 'business' then 1 end) as business_hours,
    count(case when bucket = 'off' then 1 end) as off_hours,
    count(case when bucket = 'sleep' then 1 end) as sleep_hours,
    percentile_cont(0.5) within group (order by minutes) as p50_minutes
from alerts
group by grouping sets ((week, team_id), (week))
