-- MTTD / MTTA / MTTM / MTTR per month of started_at, for every dimension value: statistics of
-- incident_facts.seconds_to_<metric> over the reportable incidents started in the month.
-- A group with no value has n = 0 and NULL statistics; n_missing counts open incidents and
-- missing milestones.
with population as (
    select f.incident_id, f.severity,
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
        f.seconds_to_detect, f.seconds_to_acknowledge, f.seconds_to_mitigate, f.seconds_to_resolve
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
-- all four metrics in one pass over the members (one row each), unpivoted below; both
-- percentiles of a metric from one sort
stats as (
    select
        month, dimension, dimension_id, min(dimension_name) as dimension_name, count(*) as members,
        count(seconds_to_detect) as detect_n, avg(seconds_to_detect) as detect_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_detect) as detect_p,
        min(seconds_to_detect) as detect_min, max(seconds_to_detect) as detect_max,
        count(seconds_to_acknowledge) as acknowledge_n, avg(seconds_to_acknowledge) as acknowledge_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_acknowledge) as acknowledge_p,
        min(seconds_to_acknowledge) as acknowledge_min, max(seconds_to_acknowledge) as acknowledge_max,
        count(seconds_to_mitigate) as mitigate_n, avg(seconds_to_mitigate) as mitigate_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_mitigate) as mitigate_p,
        min(seconds_to_mitigate) as mitigate_min, max(seconds_to_mitigate) as mitigate_max,
        count(seconds_to_resolve) as resolve_n, avg(seconds_to_resolve) as resolve_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_resolve) as resolve_p,
        min(seconds_to_resolve) as resolve_min, max(seconds_to_resolve) as resolve_max
    from members
    group by month, dimension, dimension_id
),
per_metric as (
    select
        s.month, s.dimension, s.dimension_id, s.dimension_name, k.metric, s.members,
        case k.metric when 'detect' then s.detect_n when 'acknowledge' then s.acknowledge_n
                      when 'mitigate' then s.mitigate_n when 'resolve' then s.resolve_n end as n,
        case k.metric when 'detect' then s.detect_mean when 'acknowledge' then s.acknowledge_mean
                      when 'mitigate' then s.mitigate_mean when 'resolve' then s.resolve_mean end as mean_seconds,
        case k.metric when 'detect' then s.detect_p when 'acknowledge' then s.acknowledge_p
                      when 'mitigate' then s.mitigate_p when 'resolve' then s.resolve_p end as percentiles,
        case k.metric when 'detect' then s.detect_min when 'acknowledge' then s.acknowledge_min
                      when 'mitigate' then s.mitigate_min when 'resolve' then s.resolve_min end as min_seconds,
        case k.metric when 'detect' then s.detect_max when 'acknowledge' then s.acknowledge_max
                      when 'mitigate' then s.mitigate_max when 'resolve' then s.resolve_max end as max_seconds
    from stats as s
    cross join (values ('detect'), ('acknowledge'), ('mitigate'), ('resolve')) as k(metric)
)
select
    month, dimension, dimension_id, dimension_name, metric,
    n,
    members - n as n_missing,
    mean_seconds,
    percentiles[1] as p50_seconds,
    percentiles[2] as p90_seconds,
    min_seconds,
    max_seconds
from per_metric
