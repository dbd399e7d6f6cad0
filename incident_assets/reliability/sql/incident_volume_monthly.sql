-- Reportable incidents per month and dimension value (dimensions as in mttx_monthly): started
-- and resolved in the month, and open at the month's end. Months run from the first month with
-- a reportable incident through the month of as_of; a row exists when one of the counts is
-- non-zero. open_at_month_end is NULL for a month that has not ended by as_of.
with population as (
    select f.incident_id, f.severity, f.started_at, f.resolved_at
    from {{report.incident_facts}} as f
    where f.is_reportable
),
members as (
    select p.incident_id, 'all' as dimension, 'all' as dimension_id, 'all' as dimension_name
    from population as p
    union all
    select p.incident_id, 'severity', coalesce(p.severity, 'none'), coalesce(p.severity, 'none')
    from population as p
    union all
    select d.incident_id, d.dimension, d.dimension_id, d.dimension_name
    from population as p join {{report.incident_dimensions}} as d on d.incident_id = p.incident_id
),
bounds as (
    select
        min(date_trunc('month', least(p.started_at, coalesce(p.resolved_at, p.started_at)) at time zone 'UTC'))
            as first_month,
        date_trunc('month', {{as_of}} at time zone 'UTC') as last_month
    from population as p
),
months as (
    select
        cast(g.month_start as date) as month,
        g.month_start at time zone 'UTC' as month_begin,
        (g.month_start + interval '1 month') at time zone 'UTC' as month_end
    from bounds as b, generate_series(b.first_month, b.last_month, interval '1 month') as g(month_start)
),
counted as (
    select
        mo.month, m.dimension, m.dimension_id, min(m.dimension_name) as dimension_name,
        count(distinct case when p.started_at >= mo.month_begin and p.started_at < mo.month_end
                            then p.incident_id end) as incidents_started,
        count(distinct case when p.resolved_at >= mo.month_begin and p.resolved_at < mo.month_end
                            then p.incident_id end) as incidents_resolved,
        case when min(mo.month_end) <= {{as_of}} then
            count(distinct case when p.started_at < mo.month_end
                                     and (p.resolved_at is null or p.resolved_at >= mo.month_end)
                                then p.incident_id end)
        end as open_at_month_end
    from months as mo
    cross join members as m
    join population as p on p.incident_id = m.incident_id
    group by mo.month, m.dimension, m.dimension_id
)
select *
from counted
where incidents_started > 0 or incidents_resolved > 0 or open_at_month_end > 0
