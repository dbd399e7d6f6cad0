-- Bridge between incidents and what they touch: one row per incident and dimension value
-- (service, environment, functionality, team), from the incident's services, environments,
-- functionalities and team_assignments[].team. Duplicates collapse. The name is the catalog's
-- when the value is in its catalog, else the one the incident gives it (so values missing from
-- the catalog still get a name).
--
-- columns:
--   incident_id: the incident
--   dimension: service, environment, functionality or team
--   dimension_id: id of the service, environment, functionality or team
--   dimension_name: its catalog name, else the name the incident gives it
--
-- preview:
--   select dimension, count(*) as incidents, count(distinct dimension_id) as distinct_values
--   from {{report.incident_dimensions}} group by dimension order by dimension
with
-- Each list is collapsed on its own, per parent row (one per incident: incidents are merged on
-- id) and value, with its catalog's name joined first (catalogs are small); the one join to the
-- incidents comes last, so the grouping keys are dlt's short row ids, not the incident UUIDs.
listed as (
    select s._dlt_parent_id as incident_row, 'service' as dimension, s.id as dimension_id,
           coalesce(min(n.name), min(s.name)) as dimension_name
    from {{raw.incidents__services}} as s
    left join (select id, min(name) as name from {{raw.services}} group by id) as n on n.id = s.id
    where s.id is not null
    group by s._dlt_parent_id, s.id
    union all
    select e._dlt_parent_id, 'environment', e.id, coalesce(min(n.name), min(e.name))
    from {{raw.incidents__environments}} as e
    left join (select id, min(name) as name from {{raw.environments}} group by id) as n on n.id = e.id
    where e.id is not null
    group by e._dlt_parent_id, e.id
    union all
    select f._dlt_parent_id, 'functionality', f.id, coalesce(min(n.name), min(f.name))
    from {{raw.incidents__functionalities}} as f
    left join (select id, min(name) as name from {{raw.functionalities}} group by id) as n on n.id = f.id
    where f.id is not null
    group by f._dlt_parent_id, f.id
    union all
    select t._dlt_parent_id, 'team', t.team__id, coalesce(min(n.name), min(t.team__name))
    from {{raw.incidents__team_assignments}} as t
    left join (select id, min(name) as name from {{raw.teams}} group by id) as n on n.id = t.team__id
    where t.team__id is not null
    group by t._dlt_parent_id, t.team__id
)
select i.id as incident_id, l.dimension, l.dimension_id, l.dimension_name
from listed as l
join {{raw.incidents}} as i on i._dlt_id = l.incident_row
