-- Resolved reportable incidents by month of resolved_at and severity (NULL as 'none'), plus
-- severity = 'all': how many reached postmortem_completed, the completion rate, the p50 days
-- from resolved to completed (a completion before the last resolution is left out of the p50),
-- and how many are overdue: not completed and resolved at least the due period (default 14
-- days) before as_of. n_with_report counts incidents with a retrospective report (from the
-- retrospectives endpoint, or the incident's report_id).
-- Columns: month, severity, n_resolved, n_completed, completion_rate, completed_p50_days,
-- n_overdue, n_with_report, as_of.
with reported as (
    -- incidents with a retrospective report: from the retrospectives endpoint or the incident's report_id
    select incident_id from {{raw.retrospectives}}
    union
    select id from {{raw.incidents}} where report_id is not null
),
resolved as (
    select
        f.incident_id, coalesce(f.severity, 'none') as severity, f.resolved_at, f.postmortem_completed_at,
        cast(date_trunc('month', f.resolved_at at time zone 'UTC') as date) as month,
        -- computed once here, before the rows are doubled for the 'all' scope
        case when f.postmortem_completed_at >= f.resolved_at then
            cast(extract(epoch from (f.postmortem_completed_at - f.resolved_at)) as double precision) / 86400
        end as completed_days,
        r.incident_id is not null as has_report
    from {{report.incident_facts}} as f
    left join reported as r on r.incident_id = f.incident_id
    where f.is_reportable and f.resolved_at is not null
),
scoped as (
    select r.severity as scope, r.* from resolved as r
    union all
    select 'all', r.* from resolved as r
)
select
    month, scope as severity,
    count(*) as n_resolved,
    count(postmortem_completed_at) as n_completed,
    cast(count(postmortem_completed_at) as double precision) / count(*) as completion_rate,
    percentile_cont(0.5) within group (order by completed_days) as completed_p50_days,
    count(case when postmortem_completed_at is null
                    and resolved_at + {{retrospective_due}} <= {{as_of}} then 1 end) as n_overdue,
    count(case when has_report then 1 end) as n_with_report,
    {{as_of}} as as_of
from scoped
group by month, scope
