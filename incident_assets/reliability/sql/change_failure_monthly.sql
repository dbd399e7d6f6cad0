-- How often a change breaks a service: change events per month of their starts_at (changes
-- after as_of left out), per service the change lists plus one row per month with service_id
-- all. A change failed when a reportable incident on one of its services started within
-- [starts_at, starts_at + change window) (default 24 h). Rows also exist for a month and
-- service with reportable incidents but no change, where change_failure_rate is NULL.
--
-- columns:
--   month: calendar month (UTC) of the change's start, written as its first day
--   service_id: the service, or all
--   service_name: its name (all for all)
--   n_changes: changes started in the month
--   n_failed_changes: those followed by a reportable incident on the same service within the window
--   change_failure_rate: n_failed_changes / n_changes; NULL without changes
--   n_incidents: reportable incidents started in the month
--   n_failure_incidents: incidents that followed a failed change
--   restore_p50_seconds: median impact_seconds (start to mitigation, else resolution) of those
--     incidents, in seconds
--   change_window_seconds: the change window in seconds
--   as_of: the instant the reports describe
--
-- preview:
--   select month, n_changes, n_failed_changes, change_failure_rate, restore_p50_seconds / 60 as restore_p50_minutes
--   from {{report.change_failure_monthly}} where service_id = 'all' order by month desc
--
-- headline:
--   select substr(cast(cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as text), 1, 7) || ' (last complete month)' as period,
--     max(change_failure_rate) as change_failure_rate,
--     max(restore_p50_seconds) / 60 as restore_p50_minutes
--   from {{report.change_failure_monthly}}
--   where service_id = 'all'
--     and month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with changes as (
    select c.id as change_id, c.starts_at, cs.id as service_id, cs.name as service_name,
           cast(date_trunc('month', c.starts_at at time zone 'UTC') as date) as month,
           floor(extract(epoch from c.starts_at) / extract(epoch from {{change_window}})) as window_no
    from {{raw.change_events}} as c
    join {{raw.change_events__services}} as cs on cs._dlt_parent_id = c._dlt_id
    where c.starts_at <= {{as_of}} and cs.id is not null
),
incidents as (
    select f.incident_id, f.started_at, f.impact_seconds, d.dimension_id as service_id,
           d.dimension_name as service_name,
           cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
           floor(extract(epoch from f.started_at) / extract(epoch from {{change_window}})) as window_no
    from {{report.incident_facts}} as f
    join {{report.incident_dimensions}} as d on d.incident_id = f.incident_id and d.dimension = 'service'
    where f.is_reportable
),
-- An incident within [starts_at, starts_at + window) lies in the change's window-sized time slot
-- or the next one: joining on those two slots (one spare for floating-point edges) before the
-- exact test keeps the join from pairing each change with every incident of its service.
followed as (
    select c.month, c.service_id, c.change_id, i.incident_id, i.impact_seconds
    from changes as c
    cross join (values (0), (1), (2)) as slot(k)
    join incidents as i
        on i.service_id = c.service_id and i.window_no = c.window_no + slot.k
       and i.started_at >= c.starts_at and i.started_at < c.starts_at + {{change_window}}
),
-- each scope: per service, and 'all' (a change or incident counted once per month)
scoped_changes as (
    select month, service_id, change_id from changes
    union all select distinct month, 'all', change_id from changes
),
scoped_followed as (
    select month, service_id, change_id, incident_id, impact_seconds from followed
    union all select distinct month, 'all', change_id, incident_id, impact_seconds from followed
),
names as (
    select id, min(name) as name from (
        select id, name from {{raw.services}}
        union all select service_id, service_name from changes
        -- pre-aggregated: the incidents are many, their services few
        union all select service_id, min(service_name) from incidents group by service_id
    ) as n group by id
),
failure_incidents as (
    select distinct month, service_id, incident_id, impact_seconds from scoped_followed
),
change_counts as (
    select month, service_id, count(distinct change_id) as n_changes
    from scoped_changes group by month, service_id
),
failed_counts as (
    select month, service_id, count(distinct change_id) as n_failed_changes
    from scoped_followed group by month, service_id
),
-- counted straight from the incidents (not from a per-scope copy of them); an incident lists
-- a service at most once in incident_dimensions, so per service its rows are distinct incidents
incident_counts as (
    select month, service_id, count(*) as n_incidents
    from incidents group by month, service_id
    union all
    select month, 'all', count(distinct incident_id) from incidents group by month
),
restore as (
    select month, service_id, count(*) as n_failure_incidents,
           percentile_cont(0.5) within group (order by impact_seconds) as restore_p50_seconds
    from failure_incidents group by month, service_id
),
-- a row per (month, scope) with changes or incidents
cells as (
    select month, service_id from change_counts
    union select month, service_id from incident_counts
),
stats as (
    select
        ce.month, ce.service_id,
        coalesce(cc.n_changes, 0) as n_changes,
        coalesce(fc.n_failed_changes, 0) as n_failed_changes,
        coalesce(ic.n_incidents, 0) as n_incidents,
        coalesce(r.n_failure_incidents, 0) as n_failure_incidents,
        r.restore_p50_seconds
    from cells as ce
    left join change_counts as cc on cc.month = ce.month and cc.service_id = ce.service_id
    left join failed_counts as fc on fc.month = ce.month and fc.service_id = ce.service_id
    left join incident_counts as ic on ic.month = ce.month and ic.service_id = ce.service_id
    left join restore as r on r.month = ce.month and r.service_id = ce.service_id
)
select
    s.month, s.service_id,
    case when s.service_id = 'all' then 'all' else n.name end as service_name,
    s.n_changes, s.n_failed_changes,
    cast(s.n_failed_changes as double precision) / nullif(s.n_changes, 0) as change_failure_rate,
    s.n_incidents, s.n_failure_incidents, s.restore_p50_seconds,
    cast(extract(epoch from {{change_window}}) as double precision) as change_window_seconds,
    {{as_of}} as as_of
from stats as s
left join names as n on n.id = s.service_id
