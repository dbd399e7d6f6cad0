-- Bridge: one row per incident and dimension value (service, environment, functionality, team),
-- from the incident's services, environments, functionalities and team_assignments[].team.
-- Duplicates collapse. dimension_name is the catalog's name when the value is in its catalog,
-- else the name the incident gives it (so values missing from the catalog still get a name).
with listed as (
    select i.id as incident_id, 'service' as dimension, s.id as dimension_id, s.name as listed_name
    from {{raw.incidents}} as i join {{raw.incidents__services}} as s on s._dlt_parent_id = i._dlt_id
    union all
    select i.id, 'environment', e.id, e.name
    from {{raw.incidents}} as i join {{raw.incidents__environments}} as e on e._dlt_parent_id = i._dlt_id
    union all
    select i.id, 'functionality', f.id, f.name
    from {{raw.incidents}} as i join {{raw.incidents__functionalities}} as f on f._dlt_parent_id = i._dlt_id
    union all
    select i.id, 'team', t.team__id, t.team__name
    from {{raw.incidents}} as i join {{raw.incidents__team_assignments}} as t on t._dlt_parent_id = i._dlt_id
),
catalog as (
    select 'service' as dimension, id, name from {{raw.services}}
    union all select 'environment', id, name from {{raw.environments}}
    union all select 'functionality', id, name from {{raw.functionalities}}
    union all select 'team', id, name from {{raw.teams}}
),
catalog_names as (
    select dimension, id, min(name) as name from catalog group by dimension, id
)
select
    l.incident_id, l.dimension, l.dimension_id,
    coalesce(min(c.name), min(l.listed_name)) as dimension_name
from listed as l
left join catalog_names as c on c.dimension = l.dimension and c.id = l.dimension_id
where l.dimension_id is not null
group by l.incident_id, l.dimension, l.dimension_id
