-- Helper for the availability tables (not a report of its own): each service's time line cut
-- into non-overlapping pieces, so that a period's numbers are sums of its pieces clipped to
-- the period (never double counted). Three kinds of piece:
--
-- incident: the union of the impact intervals of the reportable incidents on the service (any
-- weight); weight 0.
--
-- maintenance: the union of the scheduled maintenance windows listing the service
-- ([starts_at, ends_at), cut at as_of; a maintenance without ends_at covers nothing); weight 0.
--
-- weighted: the downtime. At an instant the service's weight is the highest weight among the
-- reportable incidents on it, and 0 during maintenance. With the service's distinct weights
-- w1 < w2 < ... (w0 = 0), level k contributes (wk - wk-1) over the union of the intervals
-- weighing at least wk, and takes the same back over that union's overlap with maintenance:
-- the weighted minutes of any period are the sum of weight x minutes of the pieces inside it.
--
-- columns:
--   as_of: the instant the reports describe
--   service_id: the service
--   piece: incident, maintenance or weighted
--   weight: downtime weight per minute of the piece (negative for maintenance taken back; 0 for
--     incident and maintenance pieces)
--   piece_start: start of the piece (inclusive)
--   piece_end: end of the piece (exclusive)
--
-- preview:
--   select service_id, piece, count(*) as pieces,
--     sum(weight * cast(extract(epoch from (piece_end - piece_start)) as double precision)) / 60
--     as weighted_minutes, min(piece_start) as first_start, max(piece_end) as last_end
--   from {{report.service_downtime_pieces}} group by service_id, piece order by service_id, piece
with impacts as (
    select service_id, weight, impact_start as interval_start, impact_end as interval_end
    from {{report.service_impact_intervals}}
    where is_reportable and impact_end > impact_start
),
-- level 0 (every interval) and each distinct positive weight of the service
levels as (
    select service_id, level, level - coalesce(lag(level) over (partition by service_id order by level),
                                               cast(0.0 as double precision)) as level_step
    from (select distinct service_id, cast(0.0 as double precision) as level from impacts
          union select distinct service_id, weight from impacts where weight > 0) as l
),
maintenance as (
    select mi.impact__id as service_id, m.starts_at as interval_start, least(m.ends_at, {{as_of}}) as interval_end
    from {{raw.scheduled_maintenances}} as m
    join {{raw.scheduled_maintenances__impacts}} as mi on mi._dlt_parent_id = m._dlt_id
    -- a maintenance without an end covers nothing (least() alone would skip the NULL)
    where mi.type = 'service' and mi.impact__id is not null and m.ends_at is not null
      and m.starts_at < least(m.ends_at, {{as_of}})
),
-- every set of intervals to merge: a service's incidents at each level (layer = level), and its
-- maintenances (layer = -1)
layered as (
    select i.service_id, l.level as layer, l.level_step, i.interval_start, i.interval_end
    from impacts as i
    join levels as l on l.service_id = i.service_id and l.level <= i.weight
    union all
    select service_id, cast(-1.0 as double precision), cast(0.0 as double precision), interval_start, interval_end
    from maintenance
),
-- Merged into islands, ordered by interval_start alone. Ties need no tie-break: of the intervals
-- starting at the same instant only the first one seen can start an island (each one ends after
-- it starts, so it covers the others' start), and the running island count below includes all
-- of them (range frame, peers included), so every one gets the same island.
ordered as (
    select y.*,
        max(y.interval_end) over (
            partition by y.service_id, y.layer order by y.interval_start
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from layered as y
),
numbered as (
    select o.*,
        sum(case when o.reach_before is null or o.interval_start > o.reach_before then 1 else 0 end) over (
            partition by o.service_id, o.layer order by o.interval_start
            range between unbounded preceding and current row
        ) as island
    from ordered as o
),
islands as (
    select service_id, layer, min(level_step) as level_step,
        min(interval_start) as island_start, max(interval_end) as island_end
    from numbered
    group by service_id, layer, island
),
pieces as (
    select service_id, 'incident' as piece, cast(0.0 as double precision) as weight, island_start, island_end
    from islands where layer = 0
    union all
    select service_id, 'maintenance', cast(0.0 as double precision), island_start, island_end
    from islands where layer < 0
    union all
    select service_id, 'weighted', level_step, island_start, island_end
    from islands where layer > 0
    union all
    -- maintenance islands are disjoint, and so are a level's islands: each overlap is taken back once
    select l.service_id, 'weighted', -l.level_step,
        greatest(l.island_start, m.island_start), least(l.island_end, m.island_end)
    from islands as l
    join islands as m
        on m.service_id = l.service_id and m.layer < 0
       and m.island_start < l.island_end and m.island_end > l.island_start
    where l.layer > 0
)
select {{as_of}} as as_of, service_id, piece, weight, island_start as piece_start, island_end as piece_end
from pieces
