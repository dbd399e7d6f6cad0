-- Did MTTx get worse? The last complete month before as_of against the three complete months
-- before it, per dimension value and metric, over the same durations as mttx_monthly (reportable
-- incidents started in the period with a duration for the metric, the same memberships).
--
-- A month holds few incidents and their durations are heavy-tailed, so a change of the median
-- alone is mostly noise. The Mann-Whitney U test says whether the recent durations tend to be
-- longer or shorter than the baseline's: durations pooled and ranked, tied values sharing the
-- average of their ranks, z = (U - n_recent n_baseline / 2) / sigma with the tie-corrected
-- variance, no continuity correction. A verdict needs both the evidence (|z| >= 1.96) and a
-- change worth acting on (the median moved by at least min_change_pct, default 20 %, in the same
-- direction). no_change means no evidence of a change, not that nothing changed.
--
-- columns:
--   as_of: the instant the report describes
--   recent_month: the last complete month before as_of (its first day)
--   baseline_start: first day of the three complete months before recent_month
--   dimension: all, severity, service, environment, functionality or team
--   dimension_id: the value's id (all for all; the slug, or none, for severity)
--   dimension_name: the value's name
--   metric: detect, acknowledge, mitigate or resolve
--   n_recent: durations in the recent month
--   n_baseline: durations in the three baseline months
--   p50_recent_seconds: median duration of the recent month in seconds (NULL when it has none)
--   p50_baseline_seconds: median duration of the baseline months in seconds (NULL when they have none)
--   p50_change_pct: 100 * (p50_recent / p50_baseline - 1); NULL when either is NULL or the
--     baseline's is 0
--   z_score: Mann-Whitney z of recent against baseline, positive when recent durations tend to be
--     longer; NULL when either period has fewer than 5 durations or every duration is the same
--   verdict: worse (z >= 1.96 and p50_change_pct >= min_change_pct), better (z <= -1.96 and
--     p50_change_pct <= -min_change_pct), too_few (fewer than 5 durations in either period) or
--     no_change (no evidence of a change)
--
-- preview:
--   select dimension, dimension_name, metric, verdict, n_recent, n_baseline,
--     p50_baseline_seconds / 60 as p50_baseline_minutes, p50_recent_seconds / 60 as p50_recent_minutes,
--     p50_change_pct, z_score
--   from {{report.mttx_change}}
--   order by case verdict when 'worse' then 0 when 'better' then 1 when 'no_change' then 2 else 3 end,
--     abs(coalesce(z_score, 0)) desc, dimension, dimension_name, metric
--
-- headline:
--   select count(case when verdict = 'worse' then 1 end) as worse_rows,
--     count(case when verdict = 'better' then 1 end) as better_rows,
--     count(case when verdict = 'no_change' then 1 end) as no_change_rows,
--     count(case when verdict = 'too_few' then 1 end) as too_few_rows
--   from {{report.mttx_change}}
with periods as (
    select
        cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as recent_month,
        cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '4 month' as date) as baseline_start
),
-- the reportable incidents of the four months (by month of start in UTC, as mttx_monthly), each
-- marked recent or baseline
population as (
    select f.incident_id, f.severity, s.month = p.recent_month as is_recent,
        f.seconds_to_detect, f.seconds_to_acknowledge, f.seconds_to_mitigate, f.seconds_to_resolve
    from {{report.incident_facts}} as f
    cross join lateral (select cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month) as s
    cross join periods as p
    where f.is_reportable
      and s.month >= p.baseline_start and s.month <= p.recent_month
),
-- each incident once per dimension value it counts in (the memberships of mttx_monthly)
members as (
    select 'all' as dimension, 'all' as dimension_id, 'all' as dimension_name, p.*
    from population as p
    union all
    select 'severity', coalesce(p.severity, 'none'), coalesce(p.severity, 'none'), p.*
    from population as p
    union all
    select d.dimension, d.dimension_id, d.dimension_name, p.*
    from population as p join {{report.incident_dimensions}} as d on d.incident_id = p.incident_id
),
-- each dimension value as a small number, and each metric too: the counting and ranking below
-- group and sort on integers, not on the values' long string ids
group_numbers as (
    select g.dimension, g.dimension_id, row_number() over (order by g.dimension, g.dimension_id) as group_no
    from (select distinct dimension, dimension_id from members) as g
),
metrics as (
    select * from (values (1, 'detect'), (2, 'acknowledge'), (3, 'mitigate'), (4, 'resolve')) as k(metric_no, metric)
),
durations as (
    select g.group_no, k.metric_no, m.is_recent,
        case k.metric_no when 1 then m.seconds_to_detect when 2 then m.seconds_to_acknowledge
                         when 3 then m.seconds_to_mitigate when 4 then m.seconds_to_resolve
        end as seconds
    from members as m
    join group_numbers as g on g.dimension = m.dimension and g.dimension_id = m.dimension_id
    cross join metrics as k
),
-- each distinct duration of a group once: how many durations have it (t) and how many of those
-- are recent; its mid-rank is the running count up to it minus (t - 1) / 2
tied as (
    select group_no, metric_no, seconds,
        cast(count(*) as double precision) as tied,
        count(case when is_recent then 1 end) as tied_recent
    from durations
    where seconds is not null
    group by group_no, metric_no, seconds
),
ranked as (
    select t.*,
        sum(t.tied) over (partition by t.group_no, t.metric_no order by t.seconds
                          rows between unbounded preceding and current row) - (t.tied - 1) / 2 as mid_rank
    from tied as t
),
rank_sums as (
    select group_no, metric_no,
        sum(tied_recent * mid_rank) as rank_sum_recent,
        sum(tied * tied * tied - tied) as tie_term
    from ranked
    group by group_no, metric_no
),
-- the medians of both periods, all four metrics in one pass over the members and unpivoted
-- below (from durations, which has four rows per member, DuckDB kept all of them for this
-- second reader); a metric counts only the members with a duration for it, as in tied
period_medians as (
    select dimension, dimension_id,
        min(case when seconds_to_detect is not null then dimension_name end) as detect_name,
        count(case when is_recent then seconds_to_detect end) as detect_n_recent,
        count(case when not is_recent then seconds_to_detect end) as detect_n_baseline,
        percentile_cont(0.5) within group (order by case when is_recent then seconds_to_detect end) as detect_p50_recent,
        percentile_cont(0.5) within group (order by case when not is_recent then seconds_to_detect end) as detect_p50_baseline,
        min(case when seconds_to_acknowledge is not null then dimension_name end) as acknowledge_name,
        count(case when is_recent then seconds_to_acknowledge end) as acknowledge_n_recent,
        count(case when not is_recent then seconds_to_acknowledge end) as acknowledge_n_baseline,
        percentile_cont(0.5) within group (order by case when is_recent then seconds_to_acknowledge end) as acknowledge_p50_recent,
        percentile_cont(0.5) within group (order by case when not is_recent then seconds_to_acknowledge end) as acknowledge_p50_baseline,
        min(case when seconds_to_mitigate is not null then dimension_name end) as mitigate_name,
        count(case when is_recent then seconds_to_mitigate end) as mitigate_n_recent,
        count(case when not is_recent then seconds_to_mitigate end) as mitigate_n_baseline,
        percentile_cont(0.5) within group (order by case when is_recent then seconds_to_mitigate end) as mitigate_p50_recent,
        percentile_cont(0.5) within group (order by case when not is_recent then seconds_to_mitigate end) as mitigate_p50_baseline,
        min(case when seconds_to_resolve is not null then dimension_name end) as resolve_name,
        count(case when is_recent then seconds_to_resolve end) as resolve_n_recent,
        count(case when not is_recent then seconds_to_resolve end) as resolve_n_baseline,
        percentile_cont(0.5) within group (order by case when is_recent then seconds_to_resolve end) as resolve_p50_recent,
        percentile_cont(0.5) within group (order by case when not is_recent then seconds_to_resolve end) as resolve_p50_baseline
    from members
    group by dimension, dimension_id
),
medians as (
    select m.dimension, m.dimension_id,
        case k.metric when 'detect' then m.detect_name when 'acknowledge' then m.acknowledge_name
                      when 'mitigate' then m.mitigate_name when 'resolve' then m.resolve_name end as dimension_name,
        k.metric_no, k.metric,
        case k.metric when 'detect' then m.detect_n_recent when 'acknowledge' then m.acknowledge_n_recent
                      when 'mitigate' then m.mitigate_n_recent when 'resolve' then m.resolve_n_recent end as n_recent,
        case k.metric when 'detect' then m.detect_n_baseline when 'acknowledge' then m.acknowledge_n_baseline
                      when 'mitigate' then m.mitigate_n_baseline when 'resolve' then m.resolve_n_baseline end as n_baseline,
        case k.metric when 'detect' then m.detect_p50_recent when 'acknowledge' then m.acknowledge_p50_recent
                      when 'mitigate' then m.mitigate_p50_recent when 'resolve' then m.resolve_p50_recent end as p50_recent_seconds,
        case k.metric when 'detect' then m.detect_p50_baseline when 'acknowledge' then m.acknowledge_p50_baseline
                      when 'mitigate' then m.mitigate_p50_baseline when 'resolve' then m.resolve_p50_baseline end as p50_baseline_seconds
    from period_medians as m
    cross join metrics as k
),
groups as (
    select m.*, r.rank_sum_recent, r.tie_term
    from medians as m
    join group_numbers as g on g.dimension = m.dimension and g.dimension_id = m.dimension_id
    join rank_sums as r on r.group_no = g.group_no and r.metric_no = m.metric_no
),
tested as (
    select g.*,
        case when g.n_recent >= 5 and g.n_baseline >= 5 then
            x.n_r * x.n_b / 12 * ((x.n_r + x.n_b + 1) - g.tie_term / ((x.n_r + x.n_b) * (x.n_r + x.n_b - 1)))
        end as variance,
        g.rank_sum_recent - x.n_r * (x.n_r + 1) / 2 - x.n_r * x.n_b / 2 as u_minus_mean,
        case when g.p50_baseline_seconds <> 0 then
            100 * (g.p50_recent_seconds / g.p50_baseline_seconds - 1)
        end as p50_change_pct
    from groups as g
    cross join lateral (select cast(g.n_recent as double precision) as n_r,
                               cast(g.n_baseline as double precision) as n_b) as x
),
scored as (
    select t.*, case when t.variance > 0 then t.u_minus_mean / sqrt(t.variance) end as z_score
    from tested as t
)
select
    {{as_of}} as as_of, p.recent_month, p.baseline_start,
    s.dimension, s.dimension_id, s.dimension_name, s.metric, s.n_recent, s.n_baseline,
    s.p50_recent_seconds, s.p50_baseline_seconds, s.p50_change_pct, s.z_score,
    case
        when s.n_recent < 5 or s.n_baseline < 5 then 'too_few'
        when s.z_score >= 1.96 and s.p50_change_pct >= {{min_change_pct}} then 'worse'
        when s.z_score <= -1.96 and s.p50_change_pct <= -{{min_change_pct}} then 'better'
        else 'no_change'
    end as verdict
from scored as s
cross join periods as p
