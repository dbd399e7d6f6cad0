-- How many reportable incidents start, get resolved and stay open, per month and dimension
-- value (dimensions as in mttx_monthly). Months run from the first month with a reportable
-- incident through the month of as_of; a row exists when one of the counts is non-zero.
--
-- columns:
--   month: calendar month (UTC), written as its first day
--   dimension: all, severity, service, environment, functionality or team
--   dimension_id: the value's id (all for all; the slug, or none, for severity)
--   dimension_name: the value's name
--   incidents_started: reportable incidents started in the month
--   incidents_resolved: reportable incidents resolved in the month
--   open_at_month_end: reportable incidents open at the month's end; NULL for a month that has
--     not ended by as_of
--
-- preview:
--   select month, dimension_id as severity, incidents_started, incidents_resolved, open_at_month_end
--   from {{report.incident_volume_monthly}}
--   where dimension in ('severity', 'all') order by month desc, severity
--
-- headline:
--   select substr(cast(cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as text), 1, 7) || ' (last complete month)' as period,
--     coalesce(sum(incidents_started), 0) as incidents_started,
--     coalesce(sum(incidents_resolved), 0) as incidents_resolved
--   from {{report.incident_volume_monthly}}
--   where dimension = 'all'
--     and month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with
-- Each incident is counted from its own start and resolve months (UTC) instead of testing every
-- month against every incident: started_at < month end <=> start_month <= month, and
-- resolved_at >= month end <=> resolve_month > month. incident_facts has one row per incident
-- and incident_dimensions one per incident and value, so counting rows counts incidents.
population as (
    select f.incident_id, f.severity, f.started_at, f.resolved_at,
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as start_month,
        cast(date_trunc('month', f.resolved_at at time zone 'UTC') as date) as resolve_month
    from {{report.incident_facts}} as f
    where f.is_reportable
),
members as (
    select 'all' as dimension, 'all' as dimension_id, 'all' as dimension_name, p.start_month, p.resolve_month
    from population as p
    union all
    select 'severity', coalesce(p.severity, 'none'), coalesce(p.severity, 'none'), p.start_month, p.resolve_month
    from population as p
    union all
    select d.dimension, d.dimension_id, d.dimension_name, p.start_month, p.resolve_month
    from population as p join {{report.incident_dimensions}} as d on d.incident_id = p.incident_id
),
-- incidents per dimension value and (start month, resolve month): small, and enough for all three counts
tallies as (
    select dimension, dimension_id, start_month, resolve_month,
        count(*) as incidents, min(dimension_name) as dimension_name
    from members
    group by dimension, dimension_id, start_month, resolve_month
),
dimension_names as (
    select dimension, dimension_id, min(dimension_name) as dimension_name
    from tallies
    group by dimension, dimension_id
),
bounds as (
    select
        min(date_trunc('month', least(p.started_at, coalesce(p.resolved_at, p.started_at)) at time zone 'UTC'))
            as first_month,
        date_trunc('month', {{as_of}} at time zone 'UTC') as last_month
    from population as p
),
months as (
    select
        cast(g.month_start as date) as month,
        (g.month_start + interval '1 month') at time zone 'UTC' as month_end
    from bounds as b, generate_series(b.first_month, b.last_month, interval '1 month') as g(month_start)
),
started_counts as (
    select start_month as month, dimension, dimension_id, cast(sum(incidents) as bigint) as incidents_started
    from tallies
    group by start_month, dimension, dimension_id
),
resolved_counts as (
    select resolve_month as month, dimension, dimension_id, cast(sum(incidents) as bigint) as incidents_resolved
    from tallies
    where resolve_month is not null
    group by resolve_month, dimension, dimension_id
),
-- open at the end of each month that has ended by as_of: started in or before it, resolved after it
open_counts as (
    select mo.month, t.dimension, t.dimension_id, cast(sum(t.incidents) as bigint) as open_at_month_end
    from months as mo
    join tallies as t
        on t.start_month <= mo.month and (t.resolve_month is null or t.resolve_month > mo.month)
    where mo.month_end <= {{as_of}}
    group by mo.month, t.dimension, t.dimension_id
),
-- a row per month and dimension value with at least one non-zero count
cells as (
    select month, dimension, dimension_id from started_counts
    union select month, dimension, dimension_id from resolved_counts
    union select month, dimension, dimension_id from open_counts
)
select
    mo.month, c.dimension, c.dimension_id, n.dimension_name,
    coalesce(sc.incidents_started, 0) as incidents_started,
    coalesce(rc.incidents_resolved, 0) as incidents_resolved,
    case when mo.month_end <= {{as_of}} then coalesce(oc.open_at_month_end, 0) end as open_at_month_end
from cells as c
join months as mo on mo.month = c.month
join dimension_names as n on n.dimension = c.dimension and n.dimension_id = c.dimension_id
left join started_counts as sc
    on sc.month = c.month and sc.dimension = c.dimension and sc.dimension_id = c.dimension_id
left join resolved_counts as rc
    on rc.month = c.month and rc.dimension = c.dimension and rc.dimension_id = c.dimension_id
left join open_counts as oc
    on oc.month = c.month and oc.dimension = c.dimension and oc.dimension_id = c.dimension_id
