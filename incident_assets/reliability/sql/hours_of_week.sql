-- Which hours-of-the-day bucket each local wall-clock hour of the week belongs to: the one
-- place that says what business, off and sleep hours are. Reports find a moment's bucket by
-- joining on `extract(isodow / hour from <ts> at time zone {{timezone}})`, the local wall-clock
-- time in the configured zone (so daylight saving time is followed). Every bucket edge falls
-- on a whole hour, so the hour decides the bucket.
--
-- columns:
--   day_of_week: ISO day of the week, 1 = Monday ... 7 = Sunday
--   hour: hour of the local wall clock, 0-23
--   bucket: business (Monday-Friday 08:00-18:00), sleep (22:00-08:00 any day) or off (the
--     rest: weekdays 18:00-22:00, weekends 08:00-22:00)
--
-- preview:
--   select bucket, count(*) as hours_per_week, min(hour) as first_hour, max(hour) as last_hour from {{report.hours_of_week}} group by bucket order by bucket
--
-- headline:
--   select count(case when bucket = 'business' then 1 end) as business_hours_per_week, count(case when bucket = 'off' then 1 end) as off_hours_per_week, count(case when bucket = 'sleep' then 1 end) as sleep_hours_per_week from {{report.hours_of_week}}
select
    d.day_of_week, h.hour,
    case
        when h.hour < 8 or h.hour >= 22 then 'sleep'
        when d.day_of_week <= 5 and h.hour < 18 then 'business'
        else 'off'
    end as bucket
from (values (1), (2), (3), (4), (5), (6), (7)) as d (day_of_week)
cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12), (13), (14), (15),
                   (16), (17), (18), (19), (20), (21), (22), (23)) as h (hour)
