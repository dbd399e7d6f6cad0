-- Per user and month of the incident's started_at: reportable incidents where the user has an
-- active role assignment, those as commander (role name containing 'commander', any case), and
-- those that started outside 08:00-18:00 Monday-Friday UTC. user_name comes from the users
-- endpoint, else from the assignment.
-- Columns: month, user_id, user_name, incidents, incidents_as_commander, incidents_off_hours.
with assignments as (
    select
        f.incident_id, f.started_at, ra.user__id as user_id, ra.user__name as assigned_name,
        lower(ra.incident_role__name) like '%commander%' as is_commander,
        cast(date_trunc('month', f.started_at at time zone 'UTC') as date) as month,
        extract(isodow from f.started_at at time zone 'UTC') >= 6
            or extract(hour from f.started_at at time zone 'UTC') < 8
            or extract(hour from f.started_at at time zone 'UTC') >= 18 as off_hours
    from {{report.incident_facts}} as f
    join {{raw.incidents}} as i on i.id = f.incident_id
    join {{raw.incidents__role_assignments}} as ra on ra._dlt_parent_id = i._dlt_id
    where f.is_reportable and lower(ra.status) = 'active' and ra.user__id is not null
)
select
    a.month, a.user_id, coalesce(min(u.name), min(a.assigned_name)) as user_name,
    count(distinct a.incident_id) as incidents,
    count(distinct case when a.is_commander then a.incident_id end) as incidents_as_commander,
    count(distinct case when a.off_hours then a.incident_id end) as incidents_off_hours
from assignments as a
left join {{raw.users}} as u on u.id = a.user_id
group by a.month, a.user_id
