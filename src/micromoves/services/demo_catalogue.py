"""Static content of the demo organisation: functions, roles on real O*NET 29.3 occupations, names, and the
text templates that make moves read like a real organisation's records.

Pure data (no I/O); :mod:`micromoves.services.demo` turns it into rows. Every O*NET-SOC code here is checked
against the loaded taxonomy when a demo is generated, so a typo fails loudly instead of producing roles
without skill requirements.
"""

from __future__ import annotations

from dataclasses import dataclass

from micromoves.domain.model import MoveKind

K = MoveKind


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # stored in teams.function
    code: str  # short code used in ids: T-ENG-1
    name: str
    share: float  # share of the workforce
    team_names: tuple[str, ...]
    adjacent: tuple[str, ...]  # functions people most often visit on moves
    manager_role: str  # role of each team's manager
    head_role: str  # role of the function head
    topics: tuple[str, ...]  # work that stretch assignments, gigs and handoffs are about


@dataclass(frozen=True)
class RoleSpec:
    id: str
    title: str
    onet_code: str
    level: int
    function: str  # FunctionSpec.key, or "executive"
    ladder: str  # roles of one ladder share it; levels are consecutive
    weight: float = 0.0  # relative frequency among the function's team members (0 = not staffed at hire)
    critical: bool = False
    # O*NET 29.3 publishes some occupations without skill/knowledge ratings (Software Developers, Data
    # Scientists, ...). Their requirements are taken from the closest rated occupation named here.
    skills_from: str | None = None
    manages: bool = False  # a people-manager or executive role: not a target for conversions


EXECUTIVE = "executive"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "engineering",
        "ENG",
        "Engineering",
        0.30,
        (
            "Platform",
            "Payments",
            "Mobile",
            "Web",
            "Infrastructure",
            "Identity",
            "Search",
            "Integrations",
            "Developer Experience",
            "Reliability",
            "Checkout",
            "Notifications",
        ),
        ("data", "product", "customer operations"),
        "R-EM-4",
        "R-HENG-5",
        (
            "the API v2 migration",
            "the on-call runbook rewrite",
            "the CI pipeline speed-up",
            "the service decomposition",
            "the accessibility audit",
            "the incident post-mortem process",
            "the dependency upgrade programme",
            "the observability dashboards",
        ),
    ),
    FunctionSpec(
        "data",
        "DAT",
        "Data",
        0.10,
        ("Analytics", "Data Platform", "Data Science", "Business Intelligence", "Experimentation", "Data Governance"),
        ("engineering", "product", "finance", "marketing"),
        "R-DAM-4",
        "R-HDAT-5",
        (
            "the churn model",
            "the KPI dashboard refresh",
            "the data quality checks",
            "the warehouse migration",
            "the A/B testing framework",
            "the customer segmentation study",
        ),
    ),
    FunctionSpec(
        "product",
        "PRD",
        "Product",
        0.09,
        ("Core Product", "Growth", "Design", "Product Operations", "Platform Product", "Research"),
        ("engineering", "marketing", "data"),
        "R-GPM-4",
        "R-HPRD-5",
        (
            "the onboarding redesign",
            "the pricing page experiment",
            "the quarterly roadmap",
            "the user research programme",
            "the design system",
            "the release notes process",
        ),
    ),
    FunctionSpec(
        "marketing",
        "MKT",
        "Marketing",
        0.11,
        ("Brand", "Growth Marketing", "Content", "Product Marketing", "Events", "Communications"),
        ("product", "data", "customer operations"),
        "R-MKM-4",
        "R-HMKT-5",
        (
            "the spring campaign",
            "the website content refresh",
            "the customer case studies",
            "the partner newsletter",
            "the launch plan",
            "the social media calendar",
        ),
    ),
    FunctionSpec(
        "customer operations",
        "CXO",
        "Customer Operations",
        0.24,
        (
            "Frontline Support",
            "Technical Support",
            "Customer Success",
            "Onboarding",
            "Service Desk",
            "Escalations",
            "Knowledge Base",
        ),
        ("product", "marketing", "engineering"),
        "R-CXM-4",
        "R-HCX-5",
        (
            "the help-centre rewrite",
            "the ticket triage rules",
            "the customer health score",
            "the escalation playbook",
            "the onboarding webinars",
            "the satisfaction survey",
        ),
    ),
    FunctionSpec(
        "finance",
        "FIN",
        "Finance",
        0.09,
        ("Accounting", "FP&A", "Procurement", "Payroll", "Tax", "Treasury"),
        ("data", "hr", "customer operations"),
        "R-FM-4",
        "R-CFO-5",
        (
            "the month-end close speed-up",
            "the budget template",
            "the vendor review",
            "the expense policy update",
            "the revenue forecast model",
            "the audit preparation",
        ),
    ),
    FunctionSpec(
        "hr",
        "HR",
        "People (HR)",
        0.07,
        ("People Partners", "Talent Acquisition", "Learning & Development", "Total Rewards", "People Operations"),
        ("finance", "customer operations", "marketing"),
        "R-HRM-4",
        "R-CHRO-5",
        (
            "the onboarding programme",
            "the career framework",
            "the engagement survey",
            "the interview training",
            "the compensation review",
            "the mentoring scheme",
        ),
    ),
)

FUNCTIONS_BY_KEY: dict[str, FunctionSpec] = {f.key: f for f in FUNCTIONS}


def _ladder(
    code: str, title: str, onet_code: str, function: str, levels: dict[int, tuple[str, float]], **kw: object
) -> list[RoleSpec]:
    """One ladder: ``levels`` maps level -> (title pattern with ``{title}``, hiring weight)."""
    return [
        RoleSpec(
            id=f"R-{code}-{level}",
            title=name.format(title=title),
            onet_code=onet_code,
            level=level,
            function=function,
            ladder=code,
            weight=weight,
            **kw,  # type: ignore[arg-type]
        )
        for level, (name, weight) in levels.items()
    ]


ENG, DAT, PRD, MKT, CXO, FIN, HR = (
    "engineering",
    "data",
    "product",
    "marketing",
    "customer operations",
    "finance",
    "hr",
)
_I_II_SR_STAFF = {1: ("{title} I", 0.0), 2: ("{title} II", 0.0), 3: ("Senior {title}", 0.0), 4: ("Staff {title}", 0.0)}


def _w(levels: dict[int, str], weights: dict[int, float]) -> dict[int, tuple[str, float]]:
    return {lv: (levels[lv], weights[lv]) for lv in weights}


_NAMES = {1: "{title} I", 2: "{title} II", 3: "Senior {title}", 4: "Staff {title}"}
_PLAIN = {1: "Junior {title}", 2: "{title}", 3: "Senior {title}", 4: "Lead {title}"}

ROLES: tuple[RoleSpec, ...] = (
    # --- executive
    RoleSpec("R-CEO-6", "Chief Executive Officer", "11-1011.00", 6, EXECUTIVE, "CEO", manages=True, critical=True),
    # --- engineering
    *_ladder(
        "SWE", "Software Engineer", "15-1252.00", ENG, _w(_NAMES, {1: 6, 2: 10, 3: 8, 4: 2}), skills_from="15-1251.00"
    ),
    *_ladder("QA", "QA Engineer", "15-1253.00", ENG, _w(_NAMES, {2: 2.5, 3: 1.2})),
    *_ladder("SRE", "Site Reliability Engineer", "15-1244.00", ENG, _w(_PLAIN, {2: 2, 3: 1.5})),
    RoleSpec("R-SEC-3", "Security Engineer", "15-1212.00", 3, ENG, "SEC", weight=1.0, critical=True),
    RoleSpec("R-ARCH-4", "Software Architect", "15-1299.08", 4, ENG, "ARCH", weight=0.6, critical=True),
    RoleSpec("R-TPM-3", "Technical Program Manager", "15-1299.09", 3, ENG, "TPM", weight=0.8),
    RoleSpec("R-EM-4", "Engineering Manager", "11-3021.00", 4, ENG, "EM", manages=True),
    RoleSpec("R-HENG-5", "VP Engineering", "11-3021.00", 5, ENG, "HENG", manages=True),
    # --- data
    *_ladder("DA", "Data Analyst", "15-2051.01", DAT, _w(_NAMES, {1: 3, 2: 4, 3: 2})),
    *_ladder("DS", "Data Scientist", "15-2051.00", DAT, _w(_PLAIN, {2: 2.5, 3: 1.5, 4: 0.5}), skills_from="15-2041.00"),
    *_ladder("DBA", "Database Administrator", "15-1242.00", DAT, _w(_PLAIN, {2: 1.2, 3: 0.8})),
    RoleSpec("R-DE-3", "Data Engineer", "15-1243.01", 3, DAT, "DE", weight=2.0),
    RoleSpec("R-DARC-4", "Data Architect", "15-1243.00", 4, DAT, "DARC", weight=0.4, critical=True),
    RoleSpec("R-DAM-4", "Analytics Manager", "11-3021.00", 4, DAT, "DAM", manages=True),
    RoleSpec("R-HDAT-5", "Head of Data", "11-3021.00", 5, DAT, "HDAT", manages=True),
    # --- product
    *_ladder(
        "PM",
        "Product Manager",
        "11-2021.00",
        PRD,
        _w({2: "Product Manager", 3: "Senior Product Manager", 4: "Principal Product Manager"}, {2: 3, 3: 2, 4: 0.6}),
    ),
    RoleSpec("R-PJM-3", "Project Manager", "13-1082.00", 3, PRD, "PJM", weight=1.5, skills_from="15-1299.09"),
    *_ladder("UX", "UX Designer", "15-1255.00", PRD, _w(_PLAIN, {1: 1.0, 2: 2.0, 3: 1.2}), skills_from="27-1024.00"),
    RoleSpec("R-TW-2", "Technical Writer", "27-3042.00", 2, PRD, "TW", weight=0.8),
    RoleSpec("R-BA-2", "Business Analyst", "13-1111.00", 2, PRD, "BA", weight=1.5),
    RoleSpec("R-GPM-4", "Group Product Manager", "11-2021.00", 4, PRD, "GPM", manages=True),
    RoleSpec("R-HPRD-5", "VP Product", "11-2021.00", 5, PRD, "HPRD", manages=True),
    # --- marketing
    *_ladder("MKS", "Marketing Specialist", "13-1161.00", MKT, _w(_PLAIN, {1: 2, 2: 3, 3: 1.5})),
    *_ladder(
        "MRA",
        "Market Research Analyst",
        "13-1161.00",
        MKT,
        _w({2: "Market Research Analyst", 3: "Senior Market Research Analyst"}, {2: 1.5, 3: 0.8}),
    ),
    RoleSpec("R-SEM-2", "Search Marketing Strategist", "13-1161.01", 2, MKT, "SEM", weight=1.2),
    RoleSpec("R-PR-2", "Public Relations Specialist", "27-3031.00", 2, MKT, "PR", weight=1.0),
    RoleSpec("R-MKM-4", "Marketing Manager", "11-2021.00", 4, MKT, "MKM", manages=True),
    RoleSpec("R-HMKT-5", "Chief Marketing Officer", "11-2021.00", 5, MKT, "HMKT", manages=True),
    # --- customer operations
    *_ladder(
        "CSR",
        "Customer Service Representative",
        "43-4051.00",
        CXO,
        _w({1: "Customer Service Representative I", 2: "Customer Service Representative II"}, {1: 8, 2: 5}),
    ),
    RoleSpec("R-CSS-3", "Customer Service Supervisor", "43-1011.00", 3, CXO, "CSS", weight=1.2),
    *_ladder("SUP", "Support Specialist", "15-1232.00", CXO, _w(_PLAIN, {1: 3, 2: 3, 3: 1.5})),
    RoleSpec("R-SE-3", "Solutions Engineer", "41-9031.00", 3, CXO, "SE", weight=0.8),
    RoleSpec("R-CXM-4", "Customer Operations Manager", "11-1021.00", 4, CXO, "CXM", manages=True),
    RoleSpec("R-HCX-5", "VP Customer Operations", "11-1021.00", 5, CXO, "HCX", manages=True),
    # --- finance
    RoleSpec("R-BK-1", "Bookkeeper", "43-3031.00", 1, FIN, "BK", weight=1.5),
    *_ladder("ACC", "Accountant", "13-2011.00", FIN, _w(_PLAIN, {1: 1.5, 2: 3, 3: 1.5})),
    *_ladder(
        "FA",
        "Financial Analyst",
        "13-2051.00",
        FIN,
        _w({2: "Financial Analyst", 3: "Senior Financial Analyst"}, {2: 2, 3: 1}),
        skills_from="13-2031.00",
    ),
    RoleSpec("R-BUD-2", "Budget Analyst", "13-2031.00", 2, FIN, "BUD", weight=0.8),
    RoleSpec("R-CMP-3", "Compliance Officer", "13-1041.00", 3, FIN, "CMP", weight=0.6, critical=True),
    RoleSpec("R-FM-4", "Finance Manager", "11-3031.00", 4, FIN, "FM", manages=True, critical=True),
    RoleSpec("R-CFO-5", "Chief Financial Officer", "11-3031.00", 5, FIN, "CFO", manages=True),
    # --- HR
    RoleSpec("R-HRA-1", "HR Assistant", "43-4161.00", 1, HR, "HRA", weight=1.5),
    *_ladder(
        "HRS", "HR Specialist", "13-1071.00", HR, _w({2: "HR Specialist", 3: "HR Business Partner"}, {2: 2.5, 3: 1.5})
    ),
    *_ladder(
        "TDS",
        "Training and Development Specialist",
        "13-1151.00",
        HR,
        _w(
            {2: "Training and Development Specialist", 3: "Senior Training and Development Specialist"},
            {2: 1.5, 3: 0.8},
        ),
    ),
    RoleSpec("R-CBS-2", "Compensation and Benefits Analyst", "13-1141.00", 2, HR, "CBS", weight=1.0),
    RoleSpec("R-TDM-4", "Learning and Development Manager", "11-3131.00", 4, HR, "TDM", weight=0.3),
    RoleSpec("R-HRM-4", "HR Manager", "11-3121.00", 4, HR, "HRM", manages=True),
    RoleSpec("R-CHRO-5", "Chief People Officer", "11-3121.00", 5, HR, "CHRO", manages=True),
)

CEO_ROLE = "R-CEO-6"
EXEC_TEAM = "T-EXEC"

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah",
    "Adam",
    "Adele",
    "Ahmed",
    "Aiko",
    "Alba",
    "Alejandro",
    "Amara",
    "Amir",
    "Ana",
    "Anders",
    "Andrea",
    "Anika",
    "Arjun",
    "Astrid",
    "Ayesha",
    "Ben",
    "Bianca",
    "Bogdan",
    "Carla",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Dara",
    "David",
    "Deepa",
    "Diego",
    "Dmitri",
    "Elena",
    "Eli",
    "Elif",
    "Emeka",
    "Emma",
    "Erik",
    "Fatima",
    "Felix",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Hugo",
    "Ibrahim",
    "Ines",
    "Isaac",
    "Ivana",
    "Jamal",
    "James",
    "Jana",
    "Javier",
    "Jin",
    "Joao",
    "Jonas",
    "Julia",
    "Kai",
    "Kamala",
    "Karin",
    "Kenji",
    "Kofi",
    "Lara",
    "Leila",
    "Leo",
    "Lina",
    "Lucas",
    "Lucia",
    "Mai",
    "Malik",
    "Mara",
    "Marco",
    "Maria",
    "Mateo",
    "Maya",
    "Mehmet",
    "Mia",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nia",
    "Nikhil",
    "Noah",
    "Nora",
    "Olga",
    "Omar",
    "Pablo",
    "Priya",
    "Rafael",
    "Ravi",
    "Rosa",
    "Sami",
    "Sara",
    "Sofia",
    "Sven",
    "Tariq",
    "Thea",
    "Tomas",
    "Uma",
    "Valentina",
    "Wei",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoe",
)
LAST_NAMES: tuple[str, ...] = (
    "Abara",
    "Adeyemi",
    "Ahmed",
    "Alvarez",
    "Andersen",
    "Bauer",
    "Becker",
    "Bianchi",
    "Borg",
    "Brown",
    "Castro",
    "Chen",
    "Costa",
    "Dubois",
    "Dumont",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Gupta",
    "Haddad",
    "Hansen",
    "Hoffmann",
    "Ivanova",
    "Jensen",
    "Jovanovic",
    "Kaur",
    "Khan",
    "Kim",
    "Kowalski",
    "Kuznetsov",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Muller",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Nielsen",
    "Novak",
    "Nowak",
    "Okafor",
    "Oliveira",
    "Olsen",
    "Patel",
    "Pereira",
    "Petrov",
    "Popescu",
    "Quinn",
    "Rahman",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Schneider",
    "Silva",
    "Singh",
    "Smith",
    "Sousa",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Torres",
    "Tran",
    "Wagner",
    "Walsh",
    "Wang",
    "Weber",
    "Wilson",
    "Wong",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
    "Zielinski",
    "Zimmermann",
)
LOCATIONS: tuple[tuple[str, float], ...] = (
    ("Berlin", 0.22),
    ("London", 0.18),
    ("Lisbon", 0.12),
    ("Toronto", 0.1),
    ("Austin", 0.1),
    ("Singapore", 0.06),
    ("Warsaw", 0.08),
    ("Remote", 0.14),
)
EMAIL_DOMAIN = "demo.example"


@dataclass(frozen=True)
class KindSpec:
    weight: float  # relative frequency
    weeks: tuple[int, int]  # planned duration range (inclusive)
    percents: tuple[int, ...]  # share of time, picked uniformly
    target: str  # "next" (next level), "related" (adjacent occupation), "lead", "either", "none"
    host: str  # "own", "function" (a team of the same function), "adjacent", "target", "none"
    titles: tuple[str, ...]
    criteria: tuple[str, ...]


KINDS: dict[MoveKind, KindSpec] = {
    K.GIG: KindSpec(
        20,
        (4, 12),
        (10, 15, 20),
        "none",
        "adjacent",
        ("Gig: help {host} with {topic}", "Gig: {skill} for the {host} team", "Gig: {topic} ({host})"),
        (
            "Deliver the agreed part of {topic} to {host}",
            "Host team rates the contribution useful",
            "Hand over documentation so {host} can continue without help",
            "Apply {skill} on a real problem",
        ),
    ),
    K.STRETCH_ASSIGNMENT: KindSpec(
        18,
        (8, 20),
        (20, 30, 40, 50),
        "next",
        "own",
        ("Stretch: lead {topic}", "Stretch: own {topic} end to end", "Stretch: {target} scope on {topic}"),
        (
            "Lead {topic} to its agreed milestone",
            "Present the results to the leadership team",
            "Work at {target} level on {skill}",
            "Get written feedback from two stakeholders",
            "Make the key decisions on {topic} without escalation",
        ),
    ),
    K.COURSE: KindSpec(
        14,
        (4, 12),
        (10, 15, 20),
        "none",
        "none",
        ("Course: {skill} fundamentals", "Course: advanced {skill}", "Certificate course in {skill}"),
        (
            "Complete every module of the course",
            "Pass the final assessment",
            "Apply {skill} in one piece of day-to-day work",
            "Share the key learnings with the team",
        ),
    ),
    K.MENTORING: KindSpec(
        10,
        (12, 26),
        (5, 10),
        "none",
        "function",
        ("Mentoring on {skill}", "Mentoring: growing towards {target}", "Mentoring with a lead from {host}"),
        (
            "Meet the mentor every two weeks",
            "Agree a development plan for {skill}",
            "Complete two practice exercises on {skill}",
            "Reflect on progress in a written summary",
        ),
    ),
    K.SHADOWING: KindSpec(
        10,
        (4, 8),
        (10, 15, 20),
        "related",
        "target",
        ("Shadow {a_target} in {host}", "Shadowing: a week in the life of {target}", "Shadowing {host} on {skill}"),
        (
            "Shadow at least six working sessions",
            "Write up how {host} uses {skill}",
            "Decide whether to pursue the {target} path",
            "Present observations to the home team",
        ),
    ),
    K.ROTATION: KindSpec(
        7,
        (12, 26),
        (100,),
        "related",
        "target",
        ("Rotation into {host}", "Rotation: {target} in {host}", "Rotation to {host} ({target})"),
        (
            "Take full ownership of one {host} workstream",
            "Perform at {target} level on {skill}",
            "Receive a positive review from the {host} manager",
            "Document the handover back home",
        ),
    ),
    K.RESPONSIBILITY_HANDOFF: KindSpec(
        7,
        (6, 12),
        (20, 30, 40),
        "next",
        "own",
        ("Handoff: take over {topic}", "Take over {topic} from the team lead", "Own {topic} during handover"),
        (
            "Run {topic} without the previous owner's help",
            "No missed deadlines during the handover",
            "Update the runbook for {topic}",
            "Stakeholders confirm a smooth transition",
        ),
    ),
    K.TEMPORARY_LEAD: KindSpec(
        5,
        (6, 16),
        (40, 50, 60),
        "lead",
        "own",
        ("Temporary lead of {host}", "Interim team lead, {host}", "Cover the lead of {host}"),
        (
            "Run the team rituals and 1:1s",
            "Keep delivery on plan while leading",
            "Handle one difficult conversation with support",
            "Team engagement does not drop",
        ),
    ),
    K.ACTING_ROLE: KindSpec(
        5,
        (8, 26),
        (100,),
        "lead",
        "target",
        ("Acting {target}", "Acting {target} in {host}", "Acting {target} (parental leave cover)"),
        (
            "Fulfil the {target} responsibilities for the whole period",
            "Make the decisions expected of {a_target}",
            "Receive positive feedback from the team",
            "Hand back with an up-to-date status report",
        ),
    ),
    K.LATERAL_SWAP: KindSpec(
        4,
        (12, 26),
        (100,),
        "related",
        "target",
        ("Swap into {target} on {host}", "Lateral swap: {target} ({host})", "Job swap with {host}"),
        (
            "Reach independent productivity as {target} within six weeks",
            "Deliver one {host} project",
            "Transfer {skill} know-how to the host team",
            "Both managers agree the swap worked",
        ),
    ),
}

EXPECTED_OUTCOMES: dict[MoveKind, str] = {
    K.GIG: "A small, useful deliverable for the host team and first-hand practice in {skill}.",
    K.STRETCH_ASSIGNMENT: "Evidence of working at {target} level, especially in {skill}.",
    K.COURSE: "A solid grounding in {skill} that is applied at work.",
    K.MENTORING: "A development plan and steady progress in {skill}.",
    K.SHADOWING: "An informed view of the {target} role before committing to it.",
    K.ROTATION: "Broader context and hands-on {target} experience in {host}.",
    K.RESPONSIBILITY_HANDOFF: "Clear ownership of {topic} and readiness for the next level.",
    K.TEMPORARY_LEAD: "Leadership experience and a view on the management track.",
    K.ACTING_ROLE: "A trial of the {target} role; may convert into the role if it works out.",
    K.LATERAL_SWAP: "A trial of the {target} role; may convert into a permanent move.",
}

EVIDENCE: dict[str, tuple[str, ...]] = {
    "met": (
        "Confirmed by the host manager in the review.",
        "Delivered on time; see the project page.",
        "Stakeholder feedback was clearly positive.",
        "Shown in the final presentation.",
    ),
    "partly_met": (
        "Mostly done; one part slipped to next quarter.",
        "Good progress, not yet independent.",
        "Delivered with more support than planned.",
    ),
    "not_met": (
        "Deprioritised after a reorganisation.",
        "Not enough time alongside the home role.",
        "Blocked by a dependency outside the team.",
    ),
}

CHECK_IN_NOTES: tuple[tuple[int, str], ...] = (
    (0, "Kick-off done, goals and success criteria confirmed."),
    (15, "Settling in; first tasks under way."),
    (30, "Good momentum; first results shared with the host team."),
    (45, "Halfway: on track against most criteria."),
    (60, "Some friction on priorities, resolved with both managers."),
    (75, "Most deliverables done; preparing the handover."),
    (90, "Wrapping up; review scheduled."),
)

# Used instead of EXPECTED_OUTCOMES when the text would need a target role and there is none.
GENERIC_OUTCOME = "Broader experience and measurable progress in {skill}."

REVIEW_NOTES: dict[str, str] = {
    "end": "Move completed as planned; skills recorded on the profile.",
    "convert": "Strong performance in the role; converted into a permanent assignment.",
    "extend": "Extended to finish the remaining criteria.",
    "continue": "Mid-point review: continue as planned.",
    "revert": "Trial ended early; the person returns to the home role.",
}


# Vowels read as a consonant ("a UX Designer", "a University Lecturer", "a One-Stop Clerk").
_A_BEFORE = ("ux", "uni", "use", "usu", "uti", "eu", "one")


def with_article(noun: str) -> str:
    """``noun`` with its indefinite article ("an Engineering Manager", "a Data Scientist", "a UX
    Designer", "an HR Manager"): by its first sound; an acronym's is its first letter's name."""
    low, first = noun.lower(), noun.split(" ")[0]
    if len(first) > 1 and first.isupper():  # an acronym, read letter by letter: "an HR Manager", "a UX …"
        vowel = first[0] in "AEFHILMNORSX"
    else:
        vowel = low[:1] in ("a", "e", "i", "o", "u") and not low.startswith(_A_BEFORE)
    return f"{'an' if vowel else 'a'} {noun}"


# A rank that heads a title and takes the plural itself ("VPs Engineering"), and job grades that follow one.
_RANKS = ("VP", "SVP", "EVP")
_GRADES = ("I", "II", "III", "IV", "V")


def plural(title: str) -> str:
    """A role title in the plural, on its head noun: "Data Engineers", "Heads of Data", "VPs Engineering",
    "Software Engineers II", "Chief People Officers" (the title plus "s" read "the Head of Datas" and "the
    Software Engineer Is")."""
    head, of, rest = title.partition(" of ")
    if of:
        return f"{plural(head)}{of}{rest}"
    words = title.split(" ")
    if len(words) > 1 and words[0] in _RANKS:
        return " ".join([words[0] + "s", *words[1:]])
    if len(words) > 1 and words[-1] in _GRADES:
        return f"{plural(' '.join(words[:-1]))} {words[-1]}"
    last = words[-1]
    if len(last) > 1 and last.endswith("y") and last[-2].lower() not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return " ".join([*words[:-1], last])
