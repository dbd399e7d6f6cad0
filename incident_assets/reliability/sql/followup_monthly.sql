-- Do the follow-up action items from incidents get done? Follow-up tickets (type follow_up) by
-- UTC month of their creation and severity of the incident they belong to, plus severity =
-- 'all': how many were created, are done, cancelled, still open, overdue, and the median days
-- to done. Every follow-up created up to as_of counts (also those of archived or excluded
-- incidents); its state is the one loaded, as_of decides what is overdue. Only months with a
-- follow-up created have rows, one per severity seen that month plus 'all'; a follow-up without
-- created_at, or created after as_of, is left out.
--
-- columns:
--   as_of: the instant the report describes
--   month: calendar month (UTC) of the ticket's creation, written as its first day
--   severity: severity slug of the ticket's incident; 'none' when the ticket has no incident,
--     an unknown one or one without severity; 'all' for every follow-up of the month
--   created: follow-ups created in the month
--   done: of those, in state done
--   cancelled: of those, in state cancelled
--   open_now: of those, in state open or in_progress
--   overdue_now: of the open ones, those with due_at before as_of
--   p50_days_to_done: median days from created_at to updated_at (a done item's last update is
--     its closing) over the done ones; NULL when none
--
-- preview:
--   select month, severity, created, done, cancelled, open_now, overdue_now, p50_days_to_done from {{report.followup_monthly}} order by month desc, severity
--
-- headline:
--   select coalesce(sum(open_now), 0) as open_followups, coalesce(sum(overdue_now), 0) as overdue_followups, coalesce(sum(done), 0) as done_followups from {{report.followup_monthly}} where severity = 'all'
with followups as (
    select
        cast(date_trunc('month', t.created_at at time zone 'UTC') as date) as month,
        coalesce(f.severity, 'none') as severity,
        t.state,
        t.state in ('open', 'in_progress') and t.due_at < {{as_of}} as is_overdue,
        case when t.state = 'done' then
            cast(extract(epoch from (t.updated_at - t.created_at)) as double precision) / 86400
        end as days_to_done
    from {{raw.tickets}} as t
    -- an unknown incident finds no row: its severity is 'none' like a missing one
    left join {{report.incident_facts}} as f on f.incident_id = t.incident_id
    where t.type = 'follow_up' and t.created_at <= {{as_of}}
)
select
    {{as_of}} as as_of,
    month,
    case when grouping(severity) = 1 then 'all' else severity end as severity,
    count(*) as created,
    count(case when state = 'done' then 1 end) as done,
    count(case when state = 'cancelled' then 1 end) as cancelled,
    count(case when state in ('open', 'in_progress') then 1 end) as open_now,
    count(case when is_overdue then 1 end) as overdue_now,
    percentile_cont(0.5) within group (order by days_to_done) as p50_days_to_done
from followups
group by grouping sets ((month, severity), (month))
