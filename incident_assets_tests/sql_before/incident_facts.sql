-- One row per loaded incident (archived ones included, flagged): milestone times, durations
-- from the start, open/archived/reportable flags. The single place where milestone rules live;
-- every other report reads these columns.
with milestone_times as (
    select
        m._dlt_parent_id as incident_row,
        min(case when m.type = 'started' then m.occurred_at end) as started_ms,
        min(case when m.type = 'detected' then m.occurred_at end) as detected_at,
        min(case when m.type = 'acknowledged' then m.occurred_at end) as acknowledged_at,
        min(case when m.type = 'identified' then m.occurred_at end) as identified_at,
        min(case when m.type = 'mitigated' then m.occurred_at end) as mitigated_at,
        -- a reopened incident is resolved when it was last resolved
        max(case when m.type = 'resolved' then m.occurred_at end) as resolved_ms,
        -- starting a retrospective resolves an incident that has no resolved milestone
        min(case when m.type in ('postmortem_started', 'postmortem_completed', 'closed')
                 then m.occurred_at end) as retrospective_ms,
        min(case when m.type = 'postmortem_completed' then m.occurred_at end) as postmortem_completed_at,
        max(case when m.type = 'closed' then m.occurred_at end) as closed_at
    from {{raw.incidents__milestones}} as m
    -- only the slugs used above (an incident without any keeps NULL times through the left join)
    where m.type in ('started', 'detected', 'acknowledged', 'identified', 'mitigated', 'resolved',
                     'postmortem_started', 'postmortem_completed', 'closed')
    group by m._dlt_parent_id
),
times as (
    select
        i.id as incident_id, i.number, i.name, i.severity, i.priority, i.current_milestone, i.incident_url,
        coalesce(mt.started_ms, i.started_at, i.created_at) as started_at,
        mt.detected_at, mt.acknowledged_at, mt.identified_at, mt.mitigated_at,
        coalesce(mt.resolved_ms, mt.retrospective_ms) as resolved_at,
        mt.postmortem_completed_at, mt.closed_at,
        i.discarded_at
    from {{raw.incidents}} as i
    left join milestone_times as mt on mt.incident_row = i._dlt_id
),
raw_durations as (
    select
        t.*,
        cast(extract(epoch from (t.detected_at - t.started_at)) as double precision) as raw_detect,
        cast(extract(epoch from (t.acknowledged_at - t.started_at)) as double precision) as raw_acknowledge,
        cast(extract(epoch from (t.mitigated_at - t.started_at)) as double precision) as raw_mitigate,
        cast(extract(epoch from (t.resolved_at - t.started_at)) as double precision) as raw_resolve,
        -- coalesce(mitigated_at, resolved_at) - started_at, without a sixth timestamp subtraction
        coalesce(cast(extract(epoch from (t.mitigated_at - t.started_at)) as double precision),
                 cast(extract(epoch from (t.resolved_at - t.started_at)) as double precision)) as raw_impact,
        case
            when t.discarded_at is not null then 'archived'
            when t.severity in {{excluded_severities}} then 'severity:' || t.severity
        end as exclusion_reason
    from times as t
)
select
    incident_id, number, name, severity, priority, current_milestone, incident_url,
    started_at, detected_at, acknowledged_at, identified_at, mitigated_at, resolved_at,
    postmortem_completed_at, closed_at,
    case when raw_detect >= 0 then raw_detect end as seconds_to_detect,
    case when raw_acknowledge >= 0 then raw_acknowledge end as seconds_to_acknowledge,
    case when raw_mitigate >= 0 then raw_mitigate end as seconds_to_mitigate,
    case when raw_resolve >= 0 then raw_resolve end as seconds_to_resolve,
    case when raw_impact >= 0 then raw_impact end as impact_seconds,
    resolved_at is null as is_open,
    discarded_at is not null as is_archived,
    exclusion_reason is null as is_reportable,
    exclusion_reason,
    coalesce(raw_detect < 0 or raw_acknowledge < 0 or raw_mitigate < 0 or raw_resolve < 0
             or raw_impact < 0, false) as has_negative_duration,
    case when resolved_at is null
         then cast(extract(epoch from ({{as_of}} - started_at)) as double precision) end as age_seconds,
    {{as_of}} as as_of
from raw_durations
