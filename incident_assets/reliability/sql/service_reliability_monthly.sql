-- Every service of the catalog for every month from the first month with a reportable
-- incident through the month of as_of: impact minutes (union of the impact intervals of
-- service_impact_intervals, clipped to the month and to as_of), availability and MTBF.
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
islands as (
    select distinct service_id, island_start, island_end from {{report.service_impact_intervals}}
),
impact as (
    select
        mo.month, i.service_id,
        sum(cast(extract(epoch from (least(i.island_end, mo.month_cut)
                                     - greatest(i.island_start, mo.month_begin))) as double precision)) / 60
            as impact_minutes
    from months as mo
    join islands as i on i.island_start < mo.month_cut and i.island_end > mo.month_begin
    group by mo.month, i.service_id
),
started as (
    select
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
        d.dimension_id as service_id,
        count(distinct f.incident_id) as incident_count
    from {{report.incident_facts}} as f
    join {{report.incident_dimensions}} as d on d.incident_id = f.incident_id and d.dimension = 'service'
    where f.is_reportable
    group by 1, 2
),
grid as (
    select
        mo.month, s.id as service_id, s.name as service_name,
        coalesce(t.name, s.owner__name) as owner_team_name,
        coalesce(st.incident_count, 0) as incident_count,
        coalesce(im.impact_minutes, 0) as impact_minutes,
        cast(extract(epoch from (mo.month_cut - mo.month_begin)) as double precision) / 60 as month_minutes
    from months as mo
    cross join {{raw.services}} as s
    left join {{raw.teams}} as t on t.id = s.owner__id
    left join impact as im on im.month = mo.month and im.service_id = s.id
    left join started as st on st.month = mo.month and st.service_id = s.id
)
select
    month, service_id, service_name, owner_team_name, incident_count, impact_minutes, month_minutes,
    100 * (1 - impact_minutes / nullif(month_minutes, 0)) as availability_pct,
    case when incident_count > 0 then (month_minutes - impact_minutes) / 60 / incident_count end as mtbf_hours
from grid
