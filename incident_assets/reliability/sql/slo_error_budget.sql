-- Error budget per catalog service over the 30 days ending at as_of. The target comes from the
-- service tier (configurable, default 99.5); bad minutes are the union of impact intervals
-- (service_impact_intervals) inside the window. worst_incident_*: the incident with the most
-- impact minutes of its own inside the window (ties by incident_id); NULL with none.
with window_bounds as (
    select {{as_of}} - interval '720 hours' as window_start, {{as_of}} as window_end
),
bad as (
    select i.service_id,
        sum(cast(extract(epoch from (least(i.island_end, w.window_end)
                                     - greatest(i.island_start, w.window_start))) as double precision)) / 60
            as bad_minutes
    from (select distinct service_id, island_start, island_end from {{report.service_impact_intervals}}) as i
    cross join window_bounds as w
    where i.island_start < w.window_end and i.island_end > w.window_start
    group by i.service_id
),
per_incident as (
    select i.service_id, i.incident_id,
        cast(extract(epoch from (least(i.impact_end, w.window_end)
                                 - greatest(i.impact_start, w.window_start))) as double precision) / 60
            as minutes,
        row_number() over (
            partition by i.service_id
            order by least(i.impact_end, w.window_end) - greatest(i.impact_start, w.window_start) desc,
                     i.incident_id
        ) as rank_in_service
    from {{report.service_impact_intervals}} as i
    cross join window_bounds as w
    where i.impact_start < w.window_end and i.impact_end > w.window_start
),
targets as (
    select
        s.id as service_id, s.name as service_name,
        coalesce(t.slo_target_pct, {{slo_default_target_pct}}) as slo_target_pct,
        cast(30 * 24 * 60 as double precision) as window_minutes
    from {{raw.services}} as s
    left join {{slo_targets}} as t on t.service_tier = s.service_tier
),
budgets as (
    select tg.*, (1 - tg.slo_target_pct / 100) * tg.window_minutes as budget_minutes,
           coalesce(b.bad_minutes, 0) as bad_minutes
    from targets as tg left join bad as b on b.service_id = tg.service_id
)
select
    {{as_of}} as as_of, bu.service_id, bu.service_name, bu.slo_target_pct, bu.window_minutes,
    bu.budget_minutes, bu.bad_minutes,
    100 * bu.bad_minutes / bu.budget_minutes as budget_consumed_pct,
    (bu.bad_minutes / bu.window_minutes) / (1 - bu.slo_target_pct / 100) as burn_rate,
    w.incident_id as worst_incident_id,
    100 * w.minutes / bu.budget_minutes as worst_incident_budget_pct
from budgets as bu
left join per_incident as w on w.service_id = bu.service_id and w.rank_in_service = 1
