-- Helper for the availability tables (not a report of its own): how much each incident hurts
-- each service it lists, and when. One row per loaded incident (archived included) and listed
-- service.
--
-- The weight comes from the incident's impact entries for that service (type service): each
-- entry's condition is weighed by its name (trimmed, any case) in the configured weights map,
-- else by its position (0: 1.0, 1: 0.3, other: 0); several entries: the highest weight. A
-- listed service without any entry weighs 1.0 (unknown is counted as an outage, not hidden);
-- entries for services the incident does not list are ignored.
--
-- columns:
--   as_of: the instant the reports describe
--   incident_id: the incident
--   service_id: a service the incident lists (catalog or not)
--   is_reportable: whether the incident counts in the reports (incident_facts.is_reportable)
--   impact_entries: the incident's impact entries for this service; 0 means no condition is known
--   weight: downtime weight in [0, 1] of the incident on this service
--   impact_start: the incident's started_at
--   impact_end: coalesce(mitigated_at, resolved_at, as_of), cut at as_of; an interval that ends
--     at or before its start is empty
--
-- preview:
--   select service_id, count(*) as incidents, sum(impact_entries) as impact_entries,
--     count(case when impact_entries = 0 then 1 end) as without_condition,
--     avg(weight) as mean_weight
--   from {{report.service_impact_intervals}} where is_reportable group by service_id order by service_id
with entries as (
    select i.id as incident_id, im.impact__id as service_id,
        coalesce(w.weight, case when im.condition__position = 0 then cast(1.0 as double precision)
                                when im.condition__position = 1 then cast(0.3 as double precision)
                                else cast(0.0 as double precision) end) as weight
    from {{raw.incidents__impacts}} as im
    join {{raw.incidents}} as i on i._dlt_id = im._dlt_parent_id
    left join {{impact_weights}} as w on w.condition_name = lower(trim(im.condition__name))
    where im.type = 'service' and im.impact__id is not null
),
entry_weights as (
    select incident_id, service_id, count(*) as impact_entries, max(weight) as weight
    from entries
    group by incident_id, service_id
)
select
    {{as_of}} as as_of, f.incident_id, d.dimension_id as service_id, f.is_reportable,
    coalesce(e.impact_entries, 0) as impact_entries,
    coalesce(e.weight, cast(1.0 as double precision)) as weight,
    f.started_at as impact_start,
    least(coalesce(f.mitigated_at, f.resolved_at, {{as_of}}), {{as_of}}) as impact_end
from {{report.incident_facts}} as f
join {{report.incident_dimensions}} as d on d.incident_id = f.incident_id and d.dimension = 'service'
left join entry_weights as e on e.incident_id = f.incident_id and e.service_id = d.dimension_id
