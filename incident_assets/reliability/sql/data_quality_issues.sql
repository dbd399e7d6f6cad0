-- Problems in the loaded incidents that make a report number less trustworthy: one row per
-- loaded incident (archived included) and problem, so that they can be fixed at the source.
--
-- Problems: missing_started (no started milestone; detail: which fallback gave started_at),
-- negative_duration (a milestone before the start; the durations are stored as NULL),
-- milestone_order (lifecycle steps out of order: detected after acknowledged, detected,
-- acknowledged, identified or mitigated after resolved, postmortem_completed or closed before
-- resolved), unknown_service (a listed service id absent from the services endpoint),
-- future_timestamp (created_at, started_at, discarded_at or a milestone after as_of),
-- missing_impact_condition (a listed service without any impact entry: its downtime counts as a
-- full outage), stale_open (open and started more than 30 days before as_of: usually an incident
-- nobody closed, which keeps counting against availability until someone does).
--
-- columns:
--   as_of: the instant the reports describe
--   incident_id: the incident with the problem
--   number: its number
--   is_reportable: whether the incident counts in the reports
--   problem: missing_started, negative_duration, milestone_order, unknown_service, future_timestamp,
--     missing_impact_condition or stale_open
--   detail: what exactly is wrong (fields, services by name, days open)
--
-- preview:
--   select problem, count(*) as incidents, count(case when is_reportable then 1 end) as reportable,
--     min(incident_id) as example
--   from {{report.data_quality_issues}} group by problem order by incidents desc, problem
--
-- headline:
--   select count(*) as problems,
--     count(case when problem = 'missing_impact_condition' then 1 end) as missing_impact_condition,
--     count(case when problem = 'stale_open' then 1 end) as stale_open,
--     count(case when problem = 'unknown_service' then 1 end) as unknown_service
--   from {{report.data_quality_issues}}
with missing_started as (
    select i.id as incident_id, 'missing_started' as problem,
        case when i.started_at is not null then 'started_at from the incident''s started_at field'
             when i.created_at is not null then 'started_at from created_at'
             else 'no start time' end as detail
    from {{raw.incidents}} as i
    -- on the incident's own row id (incidents are merged on id: one row per incident)
    where not exists (select 1 from {{raw.incidents__milestones}} as m
                      where m._dlt_parent_id = i._dlt_id and m.type = 'started')
),
negative as (
    select f.incident_id, 'negative_duration' as problem,
        concat_ws(', ',
            case when f.detected_at < f.started_at then 'detected before started' end,
            case when f.acknowledged_at < f.started_at then 'acknowledged before started' end,
            case when f.mitigated_at < f.started_at then 'mitigated before started' end,
            case when f.resolved_at < f.started_at then 'resolved before started' end) as detail
    from {{report.incident_facts}} as f
    where f.has_negative_duration
),
out_of_order as (
    select f.incident_id, 'milestone_order' as problem,
        concat_ws(', ',
            case when f.detected_at > f.acknowledged_at then 'detected after acknowledged' end,
            case when f.detected_at > f.resolved_at then 'detected after resolved' end,
            case when f.acknowledged_at > f.resolved_at then 'acknowledged after resolved' end,
            case when f.identified_at > f.resolved_at then 'identified after resolved' end,
            case when f.mitigated_at > f.resolved_at then 'mitigated after resolved' end,
            case when f.postmortem_completed_at < f.resolved_at then 'postmortem_completed before resolved' end,
            case when f.closed_at < f.resolved_at then 'closed before resolved' end) as detail
    from {{report.incident_facts}} as f
    where f.detected_at > f.acknowledged_at or f.detected_at > f.resolved_at
       or f.acknowledged_at > f.resolved_at or f.identified_at > f.resolved_at
       or f.mitigated_at > f.resolved_at or f.postmortem_completed_at < f.resolved_at
       or f.closed_at < f.resolved_at
),
unknown_service as (
    select d.incident_id, 'unknown_service' as problem,
        string_agg(coalesce(d.dimension_name, d.dimension_id), ', '
                   order by coalesce(d.dimension_name, d.dimension_id)) as detail
    from {{report.incident_dimensions}} as d
    where d.dimension = 'service'
      and not exists (select 1 from {{raw.services}} as s where s.id = d.dimension_id)
    group by d.incident_id
),
future_fields as (
    select i.id as incident_id, 'created_at' as what from {{raw.incidents}} as i where i.created_at > {{as_of}}
    union select i.id, 'started_at' from {{raw.incidents}} as i where i.started_at > {{as_of}}
    union select i.id, 'discarded_at' from {{raw.incidents}} as i where i.discarded_at > {{as_of}}
    union select i.id, 'milestone ' || coalesce(m.type, '?')
          from {{raw.incidents}} as i join {{raw.incidents__milestones}} as m on m._dlt_parent_id = i._dlt_id
          where m.occurred_at > {{as_of}}
),
future as (
    select incident_id, 'future_timestamp' as problem, string_agg(what, ', ' order by what) as detail
    from future_fields group by incident_id
),
missing_impact_services as (
    -- one row per incident and service (the bridge has no duplicates), named when the catalog
    -- knows it: the services of service_impact_intervals are the bridge's, so those without an
    -- impact entry are the bridge's services less the intervals that have one
    select d.incident_id, coalesce(d.dimension_name, d.dimension_id) as service_label
    from {{report.incident_dimensions}} as d
    where d.dimension = 'service'
      and not exists (select 1 from {{report.service_impact_intervals}} as i
                      where i.incident_id = d.incident_id and i.service_id = d.dimension_id
                        and i.impact_entries > 0)
),
missing_impact_counts as (
    select incident_id, count(*) as services, min(service_label) as first_label,
        max(service_label) as last_label
    from missing_impact_services
    group by incident_id
),
-- One or two services (nearly every incident) are listed from min and max: an ordered string
-- aggregate per incident costs several times more.
missing_impact_condition as (
    select incident_id, 'missing_impact_condition' as problem,
        case when services = 1 then first_label else first_label || ', ' || last_label end as detail
    from missing_impact_counts
    where services <= 2
    union all
    select s.incident_id, 'missing_impact_condition',
        string_agg(s.service_label, ', ' order by s.service_label)
    from missing_impact_services as s
    join missing_impact_counts as c on c.incident_id = s.incident_id
    where c.services > 2
    group by s.incident_id
),
stale_open as (
    select f.incident_id, 'stale_open' as problem,
        'open for ' || cast(cast(floor(f.age_seconds / 86400) as bigint) as text) || ' days' as detail
    from {{report.incident_facts}} as f
    where f.is_open and f.started_at < {{as_of}} - interval '720 hours'
),
problems as (
    select * from missing_started
    union all select * from negative
    union all select * from out_of_order
    union all select * from unknown_service
    union all select * from future
    union all select * from missing_impact_condition
    union all select * from stale_open
)
select {{as_of}} as as_of, p.incident_id, f.number, f.is_reportable, p.problem, p.detail
from problems as p
join {{report.incident_facts}} as f on f.incident_id = p.incident_id
