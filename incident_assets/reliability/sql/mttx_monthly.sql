-- How fast incidents are detected, acknowledged, mitigated and resolved (MTTD, MTTA, MTTM,
-- MTTR), per month of their start and for every dimension value: statistics of the
-- seconds_to_METRIC durations of incident_facts over the reportable incidents started in the
-- month. Percentiles, not only means: incident durations are heavy-tailed.
--
-- A group without any value has n = 0 and NULL statistics, never 0. An incident with two
-- services counts once in each service's row and once in the all row.
--
-- columns:
--   month: calendar month (UTC) of the incident's start, written as its first day
--   dimension: all, severity, service, environment, functionality or team
--   dimension_id: the value's id (all for all; the slug, or none, for severity)
--   dimension_name: the value's name
--   metric: detect, acknowledge, mitigate or resolve
--   n: incidents with a duration for the metric
--   n_missing: incidents without one (open, or milestone missing or before the start)
--   mean_seconds: mean duration in seconds
--   p50_seconds: median duration in seconds (continuous, interpolated)
--   p90_seconds: 90th percentile duration in seconds (continuous, interpolated)
--   min_seconds: shortest duration in seconds
--   max_seconds: longest duration in seconds
--
-- preview:
--   select month, dimension_id as severity, metric, n, p50_seconds / 60 as p50_minutes,
--     p90_seconds / 60 as p90_minutes
--   from {{report.mttx_monthly}}
--   where dimension in ('severity', 'all') and metric in ('acknowledge', 'resolve')
--   order by month desc, metric desc, severity
--
-- headline:
--   select max(case when metric = 'acknowledge' then p50_seconds end) / 60 as mtta_p50_minutes,
--     max(case when metric = 'acknowledge' then p90_seconds end) / 60 as mtta_p90_minutes,
--     max(case when metric = 'resolve' then p50_seconds end) / 60 as mttr_p50_minutes,
--     max(case when metric = 'resolve' then p90_seconds end) / 60 as mttr_p90_minutes
--   from {{report.mttx_monthly}}
--   where dimension = 'all'
--     and month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with population as (
    select f.*, cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month
    from {{report.incident_facts}} as f
    where f.is_reportable
),
-- each incident once per dimension value it counts in, with its four durations
members as (
    select p.month, 'all' as dimension, 'all' as dimension_id, 'all' as dimension_name,
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p
    union all
    select p.month, 'severity', coalesce(p.severity, 'none'), coalesce(p.severity, 'none'),
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p
    union all
    select p.month, d.dimension, d.dimension_id, d.dimension_name,
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p join {{report.incident_dimensions}} as d on d.incident_id = p.incident_id
),
metric_values as (
    select
        m.month, m.dimension, m.dimension_id, m.dimension_name, k.metric,
        case k.metric
            when 'detect' then m.seconds_to_detect
            when 'acknowledge' then m.seconds_to_acknowledge
            when 'mitigate' then m.seconds_to_mitigate
            when 'resolve' then m.seconds_to_resolve
        end as seconds
    from members as m
    cross join (values ('detect'), ('acknowledge'), ('mitigate'), ('resolve')) as k(metric)
)
select
    month, dimension, dimension_id, min(dimension_name) as dimension_name, metric,
    count(seconds) as n,
    count(*) - count(seconds) as n_missing,
    avg(seconds) as mean_seconds,
    percentile_cont(0.5) within group (order by seconds) as p50_seconds,
    percentile_cont(0.9) within group (order by seconds) as p90_seconds,
    min(seconds) as min_seconds,
    max(seconds) as max_seconds
from metric_values
group by month, dimension, dimension_id, metric
