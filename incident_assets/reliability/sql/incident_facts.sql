-- One row per loaded incident (archived ones included, flagged): when each lifecycle step
-- happened, how long each took from the start, and whether the incident counts in the reports.
-- The single place where the milestone rules live; every other report reads these columns.
--
-- columns:
--   incident_id: the incident's id
--   number: the incident's number
--   name: the incident's name
--   severity: severity slug as loaded (NULL stays NULL)
--   priority: priority slug as loaded
--   current_milestone: the incident's current milestone slug
--   incident_url: link to the incident in the incident tool, as the API gives it
--   started_at: the started milestone, else the started_at field, else created_at
--   detected_at: earliest detected milestone
--   acknowledged_at: earliest acknowledged milestone
--   identified_at: earliest identified milestone
--   mitigated_at: earliest mitigated milestone
--   resolved_at: latest resolved milestone (a reopened incident is resolved when last resolved),
--     else the earliest postmortem_started, postmortem_completed or closed milestone
--   postmortem_completed_at: earliest postmortem_completed milestone
--   closed_at: latest closed milestone
--   seconds_to_detect: detected_at - started_at in seconds; NULL when missing or negative
--   seconds_to_acknowledge: acknowledged_at - started_at in seconds; NULL when missing or negative
--   seconds_to_mitigate: mitigated_at - started_at in seconds; NULL when missing or negative
--   seconds_to_resolve: resolved_at - started_at in seconds; NULL when missing or negative
--   impact_seconds: coalesce(mitigated_at, resolved_at) - started_at in seconds; NULL while open
--     without mitigation, or when negative
--   is_open: no resolved_at
--   is_archived: the incident was archived (discarded_at set)
--   is_reportable: counts in the reports: not archived and severity not excluded
--   exclusion_reason: archived, severity:SLUG, or NULL when reportable
--   has_negative_duration: a milestone lies before the start (its duration is stored as NULL)
--   age_seconds: as_of - started_at in seconds for open incidents; NULL for resolved ones
--   as_of: the instant the reports describe
--
-- preview:
--   select incident_id, number, severity, started_at, resolved_at, seconds_to_resolve / 60 as resolve_minutes,
--     is_open, exclusion_reason
--   from {{report.incident_facts}} order by started_at desc
--
-- headline:
--   select count(*) as incidents, count(case when is_reportable then 1 end) as reportable,
--     count(case when is_reportable and is_open then 1 end) as open_reportable
--   from {{report.incident_facts}}
with milestone_times as (
    select
        m._dlt_parent_id as incident_row,
        min(m.occurred_at) filter (where m.type = 'started') as started_ms,
        min(m.occurred_at) filter (where m.type = 'detected') as detected_at,
        min(m.occurred_at) filter (where m.type = 'acknowledged') as acknowledged_at,
        min(m.occurred_at) filter (where m.type = 'identified') as identified_at,
        min(m.occurred_at) filter (where m.type = 'mitigated') as mitigated_at,
        -- a reopened incident is resolved when it was last resolved
        max(m.occurred_at) filter (where m.type = 'resolved') as resolved_ms,
        -- starting a retrospective resolves an incident that has no resolved milestone
        min(m.occurred_at) filter (where m.type in ('postmortem_started', 'postmortem_completed', 'closed'))
            as retrospective_ms,
        min(m.occurred_at) filter (where m.type = 'postmortem_completed') as postmortem_completed_at,
        max(m.occurred_at) filter (where m.type = 'closed') as closed_at
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
-- Durations from epochs: subtracting two timestamps with time zone costs several times more on
-- DuckDB (a calendar computation per row). The epoch difference is rounded to whole
-- microseconds (the timestamps' precision), which removes the floating-point error.
epochs as (
    select t.*, extract(epoch from t.started_at) as started_epoch
    from times as t
),
raw_micros as (
    select
        t.*,
        round((extract(epoch from t.detected_at) - t.started_epoch) * 1000000) as detect_us,
        round((extract(epoch from t.acknowledged_at) - t.started_epoch) * 1000000) as acknowledge_us,
        round((extract(epoch from t.mitigated_at) - t.started_epoch) * 1000000) as mitigate_us,
        round((extract(epoch from t.resolved_at) - t.started_epoch) * 1000000) as resolve_us,
        case when t.resolved_at is null
             then round((extract(epoch from {{as_of}}) - t.started_epoch) * 1000000) end as age_us
    from epochs as t
),
-- Seconds as whole days plus the rest of the day, added the way an interval's epoch is, so
-- that every value is bit for bit the one extract(epoch from (a - b)) gives.
raw_durations as (
    select
        t.*,
        cast((detect_us - mod(detect_us, 86400000000)) / 1000000 + mod(detect_us, 86400000000) / 1000000
             as double precision) as raw_detect,
        cast((acknowledge_us - mod(acknowledge_us, 86400000000)) / 1000000
             + mod(acknowledge_us, 86400000000) / 1000000 as double precision) as raw_acknowledge,
        cast((mitigate_us - mod(mitigate_us, 86400000000)) / 1000000 + mod(mitigate_us, 86400000000) / 1000000
             as double precision) as raw_mitigate,
        cast((resolve_us - mod(resolve_us, 86400000000)) / 1000000 + mod(resolve_us, 86400000000) / 1000000
             as double precision) as raw_resolve,
        cast((age_us - mod(age_us, 86400000000)) / 1000000 + mod(age_us, 86400000000) / 1000000
             as double precision) as raw_age,
        case
            when t.discarded_at is not null then 'archived'
            when t.severity in {{excluded_severities}} then 'severity:' || t.severity
        end as exclusion_reason
    from raw_micros as t
)
select
    incident_id, number, name, severity, priority, current_milestone, incident_url,
    started_at, detected_at, acknowledged_at, identified_at, mitigated_at, resolved_at,
    postmortem_completed_at, closed_at,
    case when raw_detect >= 0 then raw_detect end as seconds_to_detect,
    case when raw_acknowledge >= 0 then raw_acknowledge end as seconds_to_acknowledge,
    case when raw_mitigate >= 0 then raw_mitigate end as seconds_to_mitigate,
    case when raw_resolve >= 0 then raw_resolve end as seconds_to_resolve,
    case when coalesce(raw_mitigate, raw_resolve) >= 0 then coalesce(raw_mitigate, raw_resolve) end as impact_seconds,
    resolved_at is null as is_open,
    discarded_at is not null as is_archived,
    exclusion_reason is null as is_reportable,
    exclusion_reason,
    coalesce(raw_detect < 0 or raw_acknowledge < 0 or raw_mitigate < 0 or raw_resolve < 0, false)
        as has_negative_duration,
    raw_age as age_seconds,
    {{as_of}} as as_of
from raw_durations
