-- Shared by service_reliability_monthly and slo_error_budget (not a table of the spec):
-- one row per reportable incident and service it lists, with the incident's impact interval
-- [started_at, coalesce(mitigated_at, resolved_at, as_of)) cut at as_of (empty ones dropped),
-- and the merged interval (island) of the service it belongs to: islands never overlap, so
-- summing them clipped to a period gives the union of impact, never double counted.
-- Columns: as_of, service_id, incident_id, impact_start, impact_end, island_start, island_end.
with intervals as (
    select
        d.dimension_id as service_id, f.incident_id, f.started_at as impact_start,
        least(coalesce(f.mitigated_at, f.resolved_at, {{as_of}}), {{as_of}}) as impact_end
    from {{report.incident_facts}} as f
    join {{report.incident_dimensions}} as d
        on d.incident_id = f.incident_id and d.dimension = 'service'
    where f.is_reportable
),
-- Ordered by impact_start alone (a cheap sort key). Ties need no tie-break: of the intervals
-- starting at the same instant only the first one seen can start an island (each one ends after
-- it starts, so it covers the others' start), and the running island count below includes
-- all of them (range frame, peers included), so every one gets the same island.
ordered as (
    select
        i.*,
        max(i.impact_end) over (
            partition by i.service_id order by i.impact_start
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from intervals as i
    where i.impact_end > i.impact_start
),
numbered as (
    select
        o.*,
        sum(case when o.reach_before is null or o.impact_start > o.reach_before then 1 else 0 end) over (
            partition by o.service_id order by o.impact_start
            range between unbounded preceding and current row
        ) as island
    from ordered as o
)
select
    {{as_of}} as as_of, service_id, incident_id, impact_start, impact_end,
    min(impact_start) over (partition by service_id, island) as island_start,
    max(impact_end) over (partition by service_id, island) as island_end
from numbered
