-- MTTD / MTTA / MTTM / MTTR per month of started_at, for every dimension value: statistics of
-- incident_facts.seconds_to_<metric> over the reportable incidents started in the month.
-- A group with no value has n = 0 and NULL statistics; n_missing counts open incidents and
-- missing milestones.
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
),
-- each duration's place among its group's (for the intervals' order statistics)
ordered as (
    select v.*,
        row_number() over (partition by month, dimension, dimension_id, metric order by seconds) as position,
        count(seconds) over (partition by month, dimension, dimension_id, metric) as group_n
    from metric_values as v
),
ranks as (
    select o.*,
        ceil(nd * 0.5 - 1.96 * sqrt(nd * 0.5 * (1 - 0.5))) as p50_low,
        ceil(nd * 0.5 + 1.96 * sqrt(nd * 0.5 * (1 - 0.5))) as p50_high,
        ceil(nd * 0.9 - 1.96 * sqrt(nd * 0.9 * (1 - 0.9))) as p90_low,
        ceil(nd * 0.9 + 1.96 * sqrt(nd * 0.9 * (1 - 0.9))) as p90_high
    from (select o.*, cast(o.group_n as double precision) as nd from ordered as o) as o
)
select
    month, dimension, dimension_id, min(dimension_name) as dimension_name, metric,
    count(seconds) as n,
    count(*) - count(seconds) as n_missing,
    avg(seconds) as mean_seconds,
    percentile_cont(0.5) within group (order by seconds) as p50_seconds,
    percentile_cont(0.9) within group (order by seconds) as p90_seconds,
    min(seconds) as min_seconds,
    max(seconds) as max_seconds,
    max(case when seconds is not null and position = p50_low then seconds end) as p50_ci_low_seconds,
    max(case when seconds is not null and position = p50_high then seconds end) as p50_ci_high_seconds,
    max(case when seconds is not null and position = p90_low then seconds end) as p90_ci_low_seconds,
    max(case when seconds is not null and position = p90_high then seconds end) as p90_ci_high_seconds
from ranks
group by month, dimension, dimension_id, metric
