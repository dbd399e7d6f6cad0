-- How fast incidents are detected, acknowledged, mitigated and resolved (MTTD, MTTA, MTTM,
-- MTTR), per month of their start and for every dimension value: statistics of the
-- seconds_to_METRIC durations of incident_facts over the reportable incidents started in the
-- month. Percentiles, not only means: incident durations are heavy-tailed.
--
-- A group without any value has n = 0 and NULL statistics, never 0. An incident with two
-- services counts once in each service's row and once in the all row.
--
-- Each percentile carries its distribution-free 95 % confidence interval: with n durations
-- sorted ascending and q = 0.5 or 0.9, h = 1.96 sqrt(n q (1 - q)), the interval runs from the
-- ceil(n q - h)-th to the ceil(n q + h)-th duration; a rank outside 1..n leaves that end NULL.
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
--   p50_ci_low_seconds: low end of the median's 95 % confidence interval (an order statistic of
--     the durations; NULL when too few incidents bound it from below)
--   p50_ci_high_seconds: high end of the median's 95 % confidence interval (NULL when too few
--     incidents bound it from above)
--   p90_ci_low_seconds: low end of the 90th percentile's 95 % confidence interval (NULL when too
--     few incidents bound it from below)
--   p90_ci_high_seconds: high end of the 90th percentile's 95 % confidence interval (NULL when
--     too few incidents bound it from above: under 36 or so)
--
-- preview:
--   select month, dimension_id as severity, metric, n, p50_seconds / 60 as p50_minutes,
--     p90_seconds / 60 as p90_minutes
--   from {{report.mttx_monthly}}
--   where dimension in ('severity', 'all') and metric in ('acknowledge', 'resolve')
--   order by month desc, metric desc, severity
--
-- headline:
--   select substr(cast(cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as text), 1, 7) || ' (last complete month)' as period,
--     max(case when metric = 'acknowledge' then p50_seconds end) / 60 as mtta_p50_minutes,
--     max(case when metric = 'acknowledge' then p90_seconds end) / 60 as mtta_p90_minutes,
--     max(case when metric = 'resolve' then p50_seconds end) / 60 as mttr_p50_minutes,
--     max(case when metric = 'resolve' then p90_seconds end) / 60 as mttr_p90_minutes
--   from {{report.mttx_monthly}}
--   where dimension = 'all'
--     and month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with population as (
    select f.incident_id, f.severity,
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
        f.seconds_to_detect, f.seconds_to_acknowledge, f.seconds_to_mitigate, f.seconds_to_resolve
    from {{report.incident_facts}} as f
    where f.is_reportable
),
-- each incident once per dimension value it counts in, with its four durations: its all and
-- severity rows, then its rows of the other dimensions
own_members as (
    select p.month, 'all' as dimension, 'all' as dimension_id, 'all' as dimension_name,
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p
    union all
    select p.month, 'severity', coalesce(p.severity, 'none'), coalesce(p.severity, 'none'),
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p
),
dimension_members as (
    select p.month, d.dimension, d.dimension_id, d.dimension_name,
        p.seconds_to_detect, p.seconds_to_acknowledge, p.seconds_to_mitigate, p.seconds_to_resolve
    from population as p join {{report.incident_dimensions}} as d on d.incident_id = p.incident_id
),
-- all four metrics in one pass over the members (one row each), unpivoted below; both
-- percentiles of a metric from one sort, and the sorted durations whose order statistics
-- bound them. The all and severity groups are aggregated apart from the other dimensions':
-- one aggregate over every group held all their sorted durations at once (over DuckDB's 1 GB
-- memory_limit at 1,000,000 incidents), two hold about half as much each, one after the other.
stats as (
    select
        month, dimension, dimension_id, min(dimension_name) as dimension_name, count(*) as members,
        count(seconds_to_detect) as detect_n, avg(seconds_to_detect) as detect_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_detect) as detect_p,
        min(seconds_to_detect) as detect_min, max(seconds_to_detect) as detect_max,
        array_agg(seconds_to_detect order by seconds_to_detect) filter (where seconds_to_detect is not null) as detect_sorted,
        count(seconds_to_acknowledge) as acknowledge_n, avg(seconds_to_acknowledge) as acknowledge_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_acknowledge) as acknowledge_p,
        min(seconds_to_acknowledge) as acknowledge_min, max(seconds_to_acknowledge) as acknowledge_max,
        array_agg(seconds_to_acknowledge order by seconds_to_acknowledge) filter (where seconds_to_acknowledge is not null) as acknowledge_sorted,
        count(seconds_to_mitigate) as mitigate_n, avg(seconds_to_mitigate) as mitigate_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_mitigate) as mitigate_p,
        min(seconds_to_mitigate) as mitigate_min, max(seconds_to_mitigate) as mitigate_max,
        array_agg(seconds_to_mitigate order by seconds_to_mitigate) filter (where seconds_to_mitigate is not null) as mitigate_sorted,
        count(seconds_to_resolve) as resolve_n, avg(seconds_to_resolve) as resolve_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_resolve) as resolve_p,
        min(seconds_to_resolve) as resolve_min, max(seconds_to_resolve) as resolve_max,
        array_agg(seconds_to_resolve order by seconds_to_resolve) filter (where seconds_to_resolve is not null) as resolve_sorted
    from own_members
    group by month, dimension, dimension_id
    union all
    select
        month, dimension, dimension_id, min(dimension_name) as dimension_name, count(*) as members,
        count(seconds_to_detect) as detect_n, avg(seconds_to_detect) as detect_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_detect) as detect_p,
        min(seconds_to_detect) as detect_min, max(seconds_to_detect) as detect_max,
        array_agg(seconds_to_detect order by seconds_to_detect) filter (where seconds_to_detect is not null) as detect_sorted,
        count(seconds_to_acknowledge) as acknowledge_n, avg(seconds_to_acknowledge) as acknowledge_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_acknowledge) as acknowledge_p,
        min(seconds_to_acknowledge) as acknowledge_min, max(seconds_to_acknowledge) as acknowledge_max,
        array_agg(seconds_to_acknowledge order by seconds_to_acknowledge) filter (where seconds_to_acknowledge is not null) as acknowledge_sorted,
        count(seconds_to_mitigate) as mitigate_n, avg(seconds_to_mitigate) as mitigate_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_mitigate) as mitigate_p,
        min(seconds_to_mitigate) as mitigate_min, max(seconds_to_mitigate) as mitigate_max,
        array_agg(seconds_to_mitigate order by seconds_to_mitigate) filter (where seconds_to_mitigate is not null) as mitigate_sorted,
        count(seconds_to_resolve) as resolve_n, avg(seconds_to_resolve) as resolve_mean,
        percentile_cont(array[0.5, 0.9]) within group (order by seconds_to_resolve) as resolve_p,
        min(seconds_to_resolve) as resolve_min, max(seconds_to_resolve) as resolve_max,
        array_agg(seconds_to_resolve order by seconds_to_resolve) filter (where seconds_to_resolve is not null) as resolve_sorted
    from dimension_members
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
                      when 'mitigate' then s.mitigate_max when 'resolve' then s.resolve_max end as max_seconds,
        case k.metric when 'detect' then s.detect_sorted when 'acknowledge' then s.acknowledge_sorted
                      when 'mitigate' then s.mitigate_sorted when 'resolve' then s.resolve_sorted end as sorted_seconds
    from stats as s
    cross join (values ('detect'), ('acknowledge'), ('mitigate'), ('resolve')) as k(metric)
),
-- the ranks (1-based, in sorted_seconds) of each interval's ends; in double precision on both
-- engines, so that they agree on every rank
interval_ranks as (
    select p.*,
        cast(ceil(x.n * 0.5 - 1.96 * sqrt(x.n * 0.5 * (1 - 0.5))) as integer) as p50_low_rank,
        cast(ceil(x.n * 0.5 + 1.96 * sqrt(x.n * 0.5 * (1 - 0.5))) as integer) as p50_high_rank,
        cast(ceil(x.n * 0.9 - 1.96 * sqrt(x.n * 0.9 * (1 - 0.9))) as integer) as p90_low_rank,
        cast(ceil(x.n * 0.9 + 1.96 * sqrt(x.n * 0.9 * (1 - 0.9))) as integer) as p90_high_rank
    from per_metric as p
    cross join lateral (select cast(p.n as double precision) as n) as x
)
select
    month, dimension, dimension_id, dimension_name, metric,
    n,
    members - n as n_missing,
    mean_seconds,
    percentiles[1] as p50_seconds,
    percentiles[2] as p90_seconds,
    min_seconds,
    max_seconds,
    -- an end whose rank falls outside 1..n stays NULL (DuckDB would read a rank below 1 from the end)
    case when p50_low_rank >= 1 then sorted_seconds[p50_low_rank] end as p50_ci_low_seconds,
    case when p50_high_rank <= n then sorted_seconds[p50_high_rank] end as p50_ci_high_seconds,
    case when p90_low_rank >= 1 then sorted_seconds[p90_low_rank] end as p90_ci_low_seconds,
    case when p90_high_rank <= n then sorted_seconds[p90_high_rank] end as p90_ci_high_seconds
from interval_ranks
