-- Error budget of every catalog service over the 30 days ending at as_of: how much of the
-- downtime its SLO allows has been used. The target comes from the service tier (configurable;
-- default 99.95 for tier 1, 99.9 for tier 2, else 99.5). Bad minutes are weighted downtime minutes
-- as in service_reliability_monthly: the worst incident at each instant, weighted by its impact
-- condition, never double counted, nothing during scheduled maintenance.
--
-- The worst incident is the one with the most weighted minutes of its own in the window: its
-- impact interval outside the service's maintenance windows, clipped to the window, times its
-- weight (ties by incident_id). An incident that weighs nothing there is never the worst.
--
-- columns:
--   as_of: the instant the reports describe (end of the window)
--   service_id: the catalog service
--   service_name: its name in the catalog
--   slo_target_pct: availability target of the service (%), by tier
--   window_minutes: length of the window (30 days) in minutes
--   budget_minutes: downtime minutes the target allows in the window, (1 - target / 100) * window
--   bad_minutes: weighted downtime minutes in the window, maintenance excluded
--   budget_consumed_pct: 100 * bad_minutes / budget_minutes
--   burn_rate: (bad_minutes / window_minutes) / (1 - target / 100); 1 spends the budget exactly
--   worst_incident_id: the incident with the most weighted minutes of its own in the window
--   worst_incident_budget_pct: that incident's weighted minutes as % of the budget
--
-- preview:
--   select service_name, slo_target_pct, budget_minutes, bad_minutes, budget_consumed_pct, burn_rate,
--     worst_incident_id, worst_incident_budget_pct
--   from {{report.slo_error_budget}} order by budget_consumed_pct desc, service_name
--
-- headline:
--   select substr(cast({{as_of}} at time zone 'UTC' - interval '720 hours' as text), 1, 10) || ' to '
--       || substr(cast({{as_of}} at time zone 'UTC' as text), 1, 10) || ' (30 days)' as period,
--     count(case when budget_consumed_pct > 100 then 1 end) as services_over_budget,
--     max(budget_consumed_pct) as worst_budget_consumed_pct
--   from {{report.slo_error_budget}}
with window_bounds as (
    select {{as_of}} - interval '720 hours' as window_start, {{as_of}} as window_end
),
in_window as (
    select p.service_id, p.piece, p.weight,
        greatest(p.piece_start, w.window_start) as piece_start, least(p.piece_end, w.window_end) as piece_end
    from {{report.service_downtime_pieces}} as p
    cross join window_bounds as w
    where p.piece_start < w.window_end and p.piece_end > w.window_start
),
bad as (
    select service_id,
        sum(weight * cast(extract(epoch from (piece_end - piece_start)) as double precision)) / 60 as bad_minutes
    from in_window
    group by service_id
),
incidents as (
    select i.service_id, i.incident_id, i.weight,
        greatest(i.impact_start, w.window_start) as impact_start, least(i.impact_end, w.window_end) as impact_end
    from {{report.service_impact_intervals}} as i
    cross join window_bounds as w
    where i.is_reportable and i.weight > 0
      and i.impact_start < w.window_end and i.impact_end > w.window_start
),
-- the part of each incident's interval under maintenance (the maintenance pieces are disjoint)
maintained as (
    select i.service_id, i.incident_id,
        sum(cast(extract(epoch from (least(i.impact_end, m.piece_end)
                                     - greatest(i.impact_start, m.piece_start))) as double precision)) / 60
            as minutes
    from incidents as i
    join in_window as m
        on m.service_id = i.service_id and m.piece = 'maintenance'
       and m.piece_start < i.impact_end and m.piece_end > i.impact_start
    group by i.service_id, i.incident_id
),
per_incident as (
    select i.service_id, i.incident_id,
        i.weight * (cast(extract(epoch from (i.impact_end - i.impact_start)) as double precision) / 60
                    - coalesce(m.minutes, 0)) as minutes
    from incidents as i
    left join maintained as m on m.service_id = i.service_id and m.incident_id = i.incident_id
),
worst as (
    select service_id, incident_id, minutes,
        row_number() over (partition by service_id order by minutes desc, incident_id) as rank_in_service
    from per_incident
    -- above a float residue: an incident entirely under maintenance weighs nothing
    where minutes > 1e-9
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
           -- a sum of signed pieces: tiny float residues below zero are zero
           greatest(coalesce(b.bad_minutes, 0), 0) as bad_minutes
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
left join worst as w on w.service_id = bu.service_id and w.rank_in_service = 1
