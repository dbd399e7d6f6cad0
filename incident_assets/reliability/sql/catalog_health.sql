-- Gaps in the service catalog that weaken the reports: one row per catalog service with its
-- owner team, tier, functionalities (listed by the service or listing it), environments seen in
-- its incidents, reportable incidents started in the 90 days up to as_of, the organisation's
-- active incident webhooks, and one flag per gap. Built from the services, teams,
-- functionalities, environments and webhooks endpoints plus the incidents.
--
-- columns:
--   as_of: the instant the reports describe
--   service_id: the catalog service
--   service_name: its name
--   service_tier: its tier (1 is the most critical)
--   owner_team_id: id of the owner team
--   owner_team_name: the owner team's name (from teams, else as the service names it)
--   functionalities: names of its functionalities, comma separated
--   n_functionalities: how many functionalities
--   environments_seen: environments of the incidents listing the service, comma separated
--   incidents_last_90d: reportable incidents started in the 90 days up to as_of
--   last_incident_at: start of its latest reportable incident up to as_of
--   active_incident_webhooks: active webhooks subscribed to incident events (organisation-wide)
--   gap_no_owner: no owner team
--   gap_unknown_owner: owner team id absent from teams
--   gap_no_tier: no tier
--   gap_no_functionality: no functionality
--   gap_quiet_tier1: tier 1 without any incident in 90 days
--   gap_no_incident_webhook: no active webhook subscribed to incidents
--   gap_count: how many gap flags are set
--
-- preview:
--   select service_name, service_tier, owner_team_name, incidents_last_90d, gap_count
--   from {{report.catalog_health}} order by gap_count desc, service_name
--
-- headline:
--   select count(*) as services, count(case when gap_count > 0 then 1 end) as services_with_gaps
--   from {{report.catalog_health}}
with service_functionalities as (
    select s.id as service_id, sf.id as functionality_id
    from {{raw.services}} as s join {{raw.services__functionalities}} as sf on sf._dlt_parent_id = s._dlt_id
    union
    select fs.id, f.id
    from {{raw.functionalities}} as f join {{raw.functionalities__services}} as fs on fs._dlt_parent_id = f._dlt_id
),
functionality_names as (
    select sf.service_id,
        count(distinct sf.functionality_id) as n_functionalities,
        string_agg(distinct coalesce(f.name, sf.functionality_id), ', ' order by coalesce(f.name, sf.functionality_id)) as functionalities
    from service_functionalities as sf
    left join (select id, min(name) as name from {{raw.functionalities}} group by id) as f
        on f.id = sf.functionality_id
    where sf.functionality_id is not null
    group by sf.service_id
),
service_incidents as (
    select d.dimension_id as service_id, f.incident_id, f.started_at, f.is_reportable
    from {{report.incident_dimensions}} as d
    join {{report.incident_facts}} as f on f.incident_id = d.incident_id
    where d.dimension = 'service'
),
environments_seen as (
    -- straight from the bridge: every incident in it is in incident_facts, whose columns are not needed here
    select ds.dimension_id as service_id,
        string_agg(distinct coalesce(env.name, de.dimension_name), ', ' order by coalesce(env.name, de.dimension_name)) as environments_seen
    from {{report.incident_dimensions}} as ds
    join {{report.incident_dimensions}} as de
        on de.incident_id = ds.incident_id and de.dimension = 'environment'
    left join (select id, min(name) as name from {{raw.environments}} group by id) as env
        on env.id = de.dimension_id
    where ds.dimension = 'service'
    group by ds.dimension_id
),
-- an incident lists a service at most once in incident_dimensions: its rows per service are
-- distinct incidents, counted without a distinct
recent as (
    select si.service_id,
        count(*) filter (where si.started_at > {{as_of}} - interval '2160 hours'
                               and si.started_at <= {{as_of}}) as incidents_last_90d,
        max(si.started_at) filter (where si.started_at <= {{as_of}}) as last_incident_at
    from service_incidents as si
    where si.is_reportable
    group by si.service_id
),
webhooks as (
    select count(distinct w.id) as active_incident_webhooks
    from {{raw.webhooks}} as w
    join {{raw.webhooks__subscriptions}} as ws on ws._dlt_parent_id = w._dlt_id
    where lower(w.state) = 'active' and lower(ws.value) like 'incident%'
),
health as (
    select
        s.id as service_id, s.name as service_name, s.service_tier,
        s.owner__id as owner_team_id, coalesce(t.name, s.owner__name) as owner_team_name,
        fn.functionalities, coalesce(fn.n_functionalities, 0) as n_functionalities,
        es.environments_seen,
        coalesce(r.incidents_last_90d, 0) as incidents_last_90d, r.last_incident_at,
        wh.active_incident_webhooks,
        s.owner__id is null as gap_no_owner,
        s.owner__id is not null and t.id is null as gap_unknown_owner,
        s.service_tier is null as gap_no_tier,
        coalesce(fn.n_functionalities, 0) = 0 as gap_no_functionality,
        coalesce(s.service_tier = 1, false) and coalesce(r.incidents_last_90d, 0) = 0 as gap_quiet_tier1,
        wh.active_incident_webhooks = 0 as gap_no_incident_webhook
    from {{raw.services}} as s
    left join (select id, min(name) as name from {{raw.teams}} group by id) as t on t.id = s.owner__id
    left join functionality_names as fn on fn.service_id = s.id
    left join environments_seen as es on es.service_id = s.id
    left join recent as r on r.service_id = s.id
    cross join webhooks as wh
)
select
    {{as_of}} as as_of, h.*,
    cast(h.gap_no_owner as integer) + cast(h.gap_unknown_owner as integer) + cast(h.gap_no_tier as integer)
        + cast(h.gap_no_functionality as integer) + cast(h.gap_quiet_tier1 as integer)
        + cast(h.gap_no_incident_webhook as integer) as gap_count
from health as h
