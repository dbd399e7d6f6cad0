"""The report's sections in page order, and the report tables they read (the asset's dependencies)."""

from incident_assets.reliability.html.sections import availability, data_quality, delivery, incidents, mttx, people
from incident_assets.reliability.html.sections import what_changed

SECTIONS = (
    what_changed.SECTION,
    incidents.PER_MONTH,
    mttx.SECTION,
    availability.AVAILABILITY,
    availability.ERROR_BUDGET,
    incidents.OPEN_BACKLOG,
    delivery.CHANGE_FAILURE,
    delivery.RETROSPECTIVES,
    delivery.FOLLOWUPS,
    people.ALERT_NOISE,
    people.RESPONDER_LOAD,
    data_quality.SECTION,
)

HEADER_READS = {"incident_facts": ("as_of",)}  # the page header's "As of"

# every report table the page reads, in page order: the HTML report asset depends on these
REPORT_TABLES = tuple(dict.fromkeys(t for reads in (HEADER_READS, *(s.reads for s in SECTIONS)) for t in reads))
