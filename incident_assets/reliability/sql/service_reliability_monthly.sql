-- Availability of every catalog service per calendar month, from the first month with a
-- reportable incident through the month of as_of (cut at as_of). Downtime is weighted by the
-- impact condition (a full outage counts whole, a partial one 30 %, degraded not at all, by
-- default) and never double counted: at each instant the worst incident on the service counts.
-- Scheduled maintenance is planned downtime, not an outage: while one lists the service its
-- weight is 0.
--
-- columns:
--   month: calendar month (UTC), written as its first day
--   service_id: the catalog service
--   service_name: its name in the catalog
--   owner_team_name: the owner team's name (from teams, else as the service names it)
--   incident_count: reportable incidents on the service that started in the month
--   incident_minutes: minutes in the month with at least one reportable incident open on the
--     service, whatever its weight
--   impact_minutes: weighted downtime minutes in the month, maintenance excluded
--   maintenance_minutes: minutes in the month covered by scheduled maintenance of the service
--   month_minutes: the month's length in minutes (up to as_of for the current month)
--   availability_pct: 100 * (1 - impact_minutes / month_minutes)
--   mtbf_hours: (month_minutes - impact_minutes) / 60 / incident_count; NULL without incidents
--
-- preview:
--   select month, service_name, incident_count, incident_minutes, impact_minutes, maintenance_minutes,
--     availability_pct, mtbf_hours
--   from {{report.service_reliability_monthly}} order by month desc, availability_pct, service_name
--
-- headline:
--   select substr(cast(cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date) as text), 1, 7) || ' (last complete month)' as period,
--     min(availability_pct) as worst_availability_pct,
--     count(case when availability_pct < 99.5 then 1 end) as services_below_99_5_pct
--   from {{report.service_reliability_monthly}}
--   where month = cast(date_trunc('month', {{as_of}} at time zone 'UTC') - interval '1 month' as date)
with bounds as (
    select
        min(date_trunc('month', f.started_at at time zone 'UTC')) as first_month,
        date_trunc('month', {{as_of}} at time zone 'UTC') as last_month
    from {{report.incident_facts}} as f
    where f.is_reportable
),
months as (
    select
        cast(g.month_start as date) as month,
        g.month_start at time zone 'UTC' as month_begin,
        least((g.month_start + interval '1 month') at time zone 'UTC', {{as_of}}) as month_cut
    from bounds as b, generate_series(b.first_month, b.last_month, interval '1 month') as g(month_start)
),
-- each piece clipped to each month it overlaps
clipped as (
    select
        mo.month, p.service_id, p.piece, p.weight,
        cast(extract(epoch from (least(p.piece_end, mo.month_cut)
                                 - greatest(p.piece_start, mo.month_begin))) as double precision) / 60 as minutes
    from months as mo
    join {{report.service_downtime_pieces}} as p on p.piece_start < mo.month_cut and p.piece_end > mo.month_begin
),
minutes as (
    select month, service_id,
        sum(case when piece = 'incident' then minutes else 0 end) as incident_minutes,
        sum(weight * minutes) as impact_minutes,
        sum(case when piece = 'maintenance' then minutes else 0 end) as maintenance_minutes
    from clipped
    group by month, service_id
),
started as (
    select
        cast(date_trunc('month', i.impact_start at time zone 'UTC') as date) as month,
        i.service_id,
        count(distinct i.incident_id) as incident_count
    from {{report.service_impact_intervals}} as i
    where i.is_reportable
    group by 1, 2
),
grid as (
    select
        mo.month, s.id as service_id, s.name as service_name,
        coalesce(t.name, s.owner__name) as owner_team_name,
        coalesce(st.incident_count, 0) as incident_count,
        coalesce(mi.incident_minutes, 0) as incident_minutes,
        -- a sum of signed pieces: tiny float residues below zero are zero
        greatest(coalesce(mi.impact_minutes, 0), 0) as impact_minutes,
        coalesce(mi.maintenance_minutes, 0) as maintenance_minutes,
        cast(extract(epoch from (mo.month_cut - mo.month_begin)) as double precision) / 60 as month_minutes
    from months as mo
    cross join {{raw.services}} as s
    left join {{raw.teams}} as t on t.id = s.owner__id
    left join minutes as mi on mi.month = mo.month and mi.service_id = s.id
    left join started as st on st.month = mo.month and st.service_id = s.id
)
select
    month, service_id, service_name, owner_team_name, incident_count, incident_minutes, impact_minutes,
    maintenance_minutes, month_minutes,
    100 * (1 - impact_minutes / nullif(month_minutes, 0)) as availability_pct,
    case when incident_count > 0 then (month_minutes - impact_minutes) / 60 / incident_count end as mtbf_hours
from grid
