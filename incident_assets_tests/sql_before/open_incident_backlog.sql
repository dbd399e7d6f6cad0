-- Reportable incidents open as of as_of (not resolved, started at or before as_of), per
-- severity (NULL as 'none') plus one 'all' row, which exists even when nothing is open
-- (n_open = 0, NULL ages). oldest_incident_id: earliest started_at, ties by incident_id.
with backlog as (
    select f.incident_id, coalesce(f.severity, 'none') as severity, f.started_at,
           f.acknowledged_at, f.age_seconds
    from {{report.incident_facts}} as f
    where f.is_reportable and f.is_open and f.started_at <= {{as_of}}
),
grouped as (
    select b.severity as grp, b.* from backlog as b
    union all
    select 'all', b.* from backlog as b
),
ranked as (
    select g.*, row_number() over (partition by g.grp order by g.started_at, g.incident_id) as age_rank
    from grouped as g
),
groups as (
    select 'all' as grp
    union
    select distinct severity from backlog
)
select
    {{as_of}} as as_of,
    s.grp as severity,
    count(r.incident_id) as n_open,
    count(r.incident_id) - count(r.acknowledged_at) as n_unacknowledged,
    percentile_cont(0.5) within group (order by r.age_seconds) as age_p50_seconds,
    percentile_cont(0.9) within group (order by r.age_seconds) as age_p90_seconds,
    max(r.age_seconds) as age_max_seconds,
    min(case when r.age_rank = 1 then r.incident_id end) as oldest_incident_id
from groups as s
left join ranked as r on r.grp = s.grp
group by s.grp
