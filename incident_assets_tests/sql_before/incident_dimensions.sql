-- Bridge: one row per incident and dimension value (service, environment, functionality, team),
-- from the incident's services, environments, functionalities and team_assignments[].team.
-- Duplicates collapse. dimension_name is the catalog's name when the value is in its catalog,
-- else the name the incident gives it (so values missing from the catalog still get a name).
with listed as (
    select s._dlt_parent_id as incident_row, 'service' as dimension, s.id as dimension_id, s.name as listed_name
    from {{raw.incidents__services}} as s
    union all
    select e._dlt_parent_id, 'environment', e.id, e.name from {{raw.incidents__environments}} as e
    union all
    select f._dlt_parent_id, 'functionality', f.id, f.name from {{raw.incidents__functionalities}} as f
    union all
    select t._dlt_parent_id, 'team', t.team__id, t.team__name from {{raw.incidents__team_assignments}} as t
),
-- one join to the incidents for all four lists, then collapse duplicates
collapsed as (
    select i.id as incident_id, l.dimension, l.dimension_id, min(l.listed_name) as listed_name
    from listed as l
    join {{raw.incidents}} as i on i._dlt_id = l.incident_row
    where l.dimension_id is not null
    group by i.id, l.dimension, l.dimension_id
),
catalog as (
    select 'service' as dimension, id, name from {{raw.services}}
    union all select 'environment', id, name from {{raw.environments}}
    union all select 'functionality', id, name from {{raw.functionalities}}
    union all select 'team', id, name from {{raw.teams}}
),
-- one name per catalog entry (joined after the collapse: it is unique per dimension value)
catalog_names as (
    select dimension, id, min(name) as name from catalog group by dimension, id
)
select
    c.incident_id, c.dimension, c.dimension_id,
    coalesce(n.name, c.listed_name) as dimension_name
from collapsed as c
left join catalog_names as n on n.dimension = c.dimension and n.id = c.dimension_id
