"""Fixed-size reference data (users, teams, services...), independent of the incident count."""

from __future__ import annotations

import random

from incident_assets.simulator.common import ANCHOR_MS, DAY, iso, uuid_str

# ---------------------------------------------------------------- catalogs

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kai",
         "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma",
         "Viktor", "Wen", "Ximena", "Yusuf", "Zoe"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Patel", "Novak", "Haddad", "Kim", "Tanaka", "Silva",
        "Berg", "Ivanova", "Mensah", "Rossi", "Nakamura", "Adeyemi", "Costa", "Fischer"]
TEAMS = ["Platform", "Payments", "Checkout", "Identity", "Data", "Mobile", "Search", "SRE"]
SERVICES = ["api-gateway", "checkout", "payments", "billing", "auth", "user-profile", "search",
            "catalog", "inventory", "orders", "shipping", "notifications", "email-sender",
            "web-frontend", "mobile-bff", "recommendations", "pricing", "cart", "reviews",
            "media-upload", "cdn-edge", "queue-workers", "scheduler", "ledger", "fraud-detection",
            "analytics-ingest", "feature-flags", "admin-console", "webhooks-relay", "dns"]
FUNCTIONALITIES = ["Login", "Sign-up", "Checkout flow", "Card payments", "Refunds", "Search",
                   "Product pages", "Order tracking", "Push notifications", "Invoicing",
                   "Mobile app", "Admin tools"]
ENVIRONMENTS = [("production", "Customer-facing production"), ("staging", "Pre-release staging"),
                ("development", "Shared development"), ("sandbox", "Partner sandbox")]
SEVERITIES = [  # slug, description, type, color
    ("SEV1", "Critical customer-facing outage", "unexpected_downtime", "#b71c1c"),
    ("SEV2", "Major degradation for many customers", "unexpected_downtime", "#e65100"),
    ("SEV3", "Partial degradation, workaround exists", "unexpected_downtime", "#f9a825"),
    ("SEV4", "Minor issue, low customer impact", "unexpected_downtime", "#1565c0"),
    ("SEV5", "Cosmetic or internal-only issue", "unexpected_downtime", "#2e7d32"),
    ("GAMEDAY", "Planned chaos exercise", "gameday", "#6a1b9a"),
    ("MAINTENANCE", "Planned maintenance", "maintenance", "#455a64"),
    ("UNSET", "Severity not yet set", "unexpected_downtime", "#9e9e9e"),
]
PRIORITIES = [("P1", "Drop everything"), ("P2", "Work on it today"),
              ("P3", "Work on it this week"), ("P4", "Backlog")]
ROLES = [("Commander", "Leads the response"), ("Communications", "Owns status updates"),
         ("Ops Lead", "Drives the technical mitigation")]
# FireHydrant's default impact conditions, after an organisation-specific one that it put first
# (position 0 = worst): a name no default weight map knows, so only its position says how bad it is
CONDITIONS = ["Major Outage", "Unavailable", "Partially Unavailable", "Degraded", "Bug", "Operational"]
MAJOR_OUTAGE, UNAVAILABLE, PARTIALLY_UNAVAILABLE, DEGRADED, BUG, OPERATIONAL = range(len(CONDITIONS))
TICKET_PRIORITIES = ["Highest", "High", "Medium", "Low"]  # the ticket tracker's own priorities
GHOST_SERVICES = ["legacy-billing", "old-search-indexer"]  # ids absent from /services
ORGANIZATION_NAME = "Acme Commerce"
PROBLEMS = ["elevated 5xx errors", "latency spike", "failed deploy", "database connection "
            "exhaustion", "certificate expiry", "queue backlog", "memory leak", "DNS resolution "
            "failures", "third-party outage", "data inconsistency", "timeouts", "cache stampede"]
TAGS = ["customer-facing", "deploy", "database", "network", "third-party", "security",
        "capacity", "config"]


class Catalogs:
    """Fixed-size reference data (independent of the incident count)."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"catalogs:{seed}")
        self.rng = rng
        uid = lambda: uuid_str(rng.getrandbits(128))  # noqa: E731
        when = lambda lo, hi: ANCHOR_MS - rng.randint(lo, hi) * DAY - rng.randint(0, DAY)  # noqa: E731
        self.org = {"id": uid(), "name": ORGANIZATION_NAME}

        self.incident_roles = []
        for name, summary in ROLES:
            c = when(900, 1000)
            self.incident_roles.append({"id": uid(), "name": name, "summary": summary,
                               "description": f"The {name.lower()} of an incident.",
                               "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 300) * DAY),
                               "discarded_at": None})

        names = set()
        while len(names) < 40:
            names.add((rng.choice(FIRST), rng.choice(LAST)))
        self.users = []
        for first, last in sorted(names):
            c = when(600, 1000)
            self.users.append({"id": uid(), "name": f"{first} {last}",
                               "email": f"{first.lower()}.{last.lower()}@acme.example",
                               "slack_user_id": "U%08X" % rng.getrandbits(32),
                               "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 500) * DAY)})

        self.teams = []
        self.team_members: list[list[int]] = []
        for name in TEAMS:
            c = when(800, 1000)
            creator = rng.randrange(len(self.users))
            self.teams.append({"id": uid(), "name": name, "slug": name.lower(),
                               "description": f"The {name} team.",
                               "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 600) * DAY),
                               "created_by": self.author(creator), "in_support_hours": rng.random() < 0.8})
        # each user in one or two teams; every team has members
        for t in range(len(TEAMS)):
            self.team_members.append([])
        for u in range(len(self.users)):
            for t in {u % len(TEAMS), rng.randrange(len(TEAMS))}:
                self.team_members[t].append(u)

        self.environments = []
        for slug, desc in ENVIRONMENTS:
            c = when(900, 1000)
            self.environments.append({"id": uid(), "name": slug, "slug": slug, "description": desc,
                                      "updated_at": iso(c + rng.randint(0, 500) * DAY),
                                      "created_at": iso(c), "active_incidents": []})

        self.services = []
        self.service_owner: list[int | None] = []
        for i, name in enumerate(SERVICES):
            c = when(700, 1000)
            owner = None if rng.random() < 0.15 else rng.randrange(len(TEAMS))
            self.service_owner.append(owner)
            self.services.append({
                "id": uid(), "name": name, "slug": name, "description": f"The {name} service.",
                "service_tier": rng.choices([1, 2, 3, 4, 5], [3, 5, 8, 5, 3])[0],
                "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 600) * DAY),
                "labels": {"language": rng.choice(["go", "python", "ruby", "java", "typescript"]),
                           "region": rng.choice(["us-east-1", "eu-west-1"])},
                "alert_on_add": rng.random() < 0.3, "auto_add_responding_team": rng.random() < 0.5,
                "active_incidents": [], "functionalities": [],
                "links": [{"id": uid(), "href_url": f"https://runbooks.acme.example/{name}",
                           "icon_url": None, "name": "Runbook"}],
                "owner": None if owner is None else self.team_lite(owner),
                "teams": [self.team_lite(t) for t in sorted({rng.randrange(len(TEAMS))} | (
                    set() if owner is None else {owner}))],
            })

        self.functionalities = []
        self.func_services: list[list[int]] = []
        for name in FUNCTIONALITIES:
            c = when(600, 900)
            svc = sorted(rng.sample(range(len(SERVICES)), rng.randint(1, 3)))
            self.func_services.append(svc)
            owner = rng.randrange(len(TEAMS))
            self.functionalities.append({
                "id": uid(), "name": name, "slug": name.lower().replace(" ", "-"),
                "description": f"{name}, as customers see it.",
                "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 400) * DAY),
                "labels": {}, "active_incidents": [], "links": [], "owner": self.team_lite(owner),
                "alert_on_add": False, "auto_add_responding_team": True,
                "services": [self.service_lite(s) for s in svc], "teams": [self.team_lite(owner)]})
        self.service_funcs: list[list[int]] = [[] for _ in SERVICES]
        for f, svc in enumerate(self.func_services):
            for s in svc:
                self.service_funcs[s].append(f)
                self.services[s]["functionalities"].append(self.functionality_lite(f))

        for t, team in enumerate(self.teams):
            team["memberships"] = [{"user": self.users[u], "default_incident_role":
                                    self.incident_roles[0] if k == 0 else None}
                                   for k, u in enumerate(self.team_members[t])]
            owned = [s for s, o in enumerate(self.service_owner) if o == t]
            team["owned_services"] = [self.service_lite(s) for s in owned]
            team["services"] = [self.service_lite(s) for s, svc in enumerate(self.services)
                                if any(x["id"] == team["id"] for x in svc["teams"])]
            team["functionalities"] = [self.functionality_lite(f) for f, fn in
                                       enumerate(self.functionalities) if fn["owner"]["id"] == team["id"]]

        self.webhooks = []
        for k, subs in enumerate([["incidents"], ["incidents", "change_events"], ["change_events"]]):
            c = when(300, 700)
            self.webhooks.append({"id": uid(), "url": f"https://hooks.acme.example/firehydrant/{k + 1}",
                                  "state": "inactive" if k == 2 else "active",
                                  "created_by": self.author(rng.randrange(len(self.users))),
                                  "created_at": iso(c), "updated_at": iso(c + rng.randint(0, 200) * DAY),
                                  "subscriptions": subs})

        base = ANCHOR_MS - 1000 * DAY  # the organisation's defaults, created with it
        self.severities = [{"slug": s, "description": d, "type": t, "position": i,
                            "created_at": iso(base), "updated_at": iso(base),
                            "system_record": s == "UNSET", "color": c}
                           for i, (s, d, t, c) in enumerate(SEVERITIES)]
        self.severity_color = {s["slug"]: s["color"] for s in self.severities}
        self.priorities = [{"slug": p, "description": d, "position": i, "created_at": iso(base),
                            "updated_at": iso(base), "default": p == "P3"}
                           for i, (p, d) in enumerate(PRIORITIES)]
        self.conditions = [{"id": uid(), "name": n, "position": i} for i, n in enumerate(CONDITIONS)]
        self.ghosts = [{"id": uid(), "name": n} for n in GHOST_SERVICES]
        self.ticket_priorities = [{"id": uid(), "name": n, "position": i, "created_at": iso(base),
                                   "updated_at": iso(base)} for i, n in enumerate(TICKET_PRIORITIES)]

    def author(self, u: int, source: str = "firehydrant_user") -> dict:
        user = self.users[u]
        return {"id": user["id"], "name": user["name"], "source": source, "email": user["email"]}

    def team_lite(self, t: int) -> dict:
        team = self.teams[t]
        return {k: team[k] for k in ("id", "name", "description", "slug", "created_at", "updated_at")}

    def service_succinct(self, s: int) -> dict:
        """id and name; a negative `s` is a ghost service, one that /services does not list."""
        if s < 0:
            return dict(self.ghosts[-1 - s])
        return {"id": self.services[s]["id"], "name": self.services[s]["name"]}

    def service_lite(self, s: int) -> dict:
        svc = self.services[s]
        return {k: svc[k] for k in ("id", "name", "description", "slug", "service_tier",
                                    "created_at", "updated_at", "labels")}

    def functionality_lite(self, f: int) -> dict:
        fn = self.functionalities[f]
        return {k: fn[k] for k in ("id", "name", "slug", "description", "created_at", "updated_at")}
