"""The network's competency framework for NHS analysts and decision-makers, as first seeded.

Faculty change it on the framework pages afterwards; seeding again only adds competencies
whose code is missing, so their edits are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.courses.models import Strand


@dataclass(frozen=True)
class Seed:
    code: str
    name: str
    domain: Strand
    description: str
    aware: str
    working: str
    practitioner: str
    expert: str


FRAMEWORK: list[Seed] = [
    # ------------------------------------------------------------ improving decision-making
    Seed(
        "decision-quality", "Decision quality", Strand.DECISION_MAKING,
        "Judging and improving the quality of a decision at the time it is made, using the "
        "six elements of decision quality: frame, alternatives, information, values, "
        "reasoning and commitment.",
        "Can name the six elements of decision quality and explain why a good decision can "
        "still have a bad outcome.",
        "Uses a decision quality checklist to review a decision paper and points out its "
        "weakest element.",
        "Facilitates decision-makers through a decision using the elements, and shapes the "
        "analysis around the weakest link.",
        "Embeds decision quality in an organisation's governance and coaches leaders and "
        "analysts to use it.",
    ),
    Seed(
        "problem-framing", "Framing questions with decision-makers", Strand.DECISION_MAKING,
        "Working with decision-makers to agree the decision to be made, its scope, the "
        "options in play and what would change their mind, before any analysis starts.",
        "Knows that an analytical request is not yet a question and asks what decision it "
        "will inform.",
        "Agrees a written question, scope and deadline with the requester for routine work.",
        "Structures messy problems with stakeholders (for example with issue trees or "
        "influence diagrams) and negotiates what analysis is worth doing.",
        "Shapes the questions a system asks of its analysts and challenges senior leaders "
        "when the framing is wrong.",
    ),
    Seed(
        "uncertainty-and-risk", "Handling uncertainty and risk", Strand.DECISION_MAKING,
        "Describing what is not known, how much it matters to the decision, and how to act "
        "well in spite of it.",
        "Recognises that every estimate has uncertainty and that a single number can "
        "mislead.",
        "Presents ranges and scenarios alongside central estimates and says where they "
        "come from.",
        "Uses sensitivity analysis, value of information or simulation to show which "
        "uncertainties would change the decision.",
        "Sets standards for how uncertainty is reported to boards and helps leaders make "
        "robust decisions under deep uncertainty.",
    ),
    Seed(
        "evaluation-design", "Evaluation design", Strand.DECISION_MAKING,
        "Planning proportionate evaluations of services and interventions that can answer "
        "the question asked: logic models, comparison groups, measures and methods.",
        "Knows the difference between monitoring and evaluation, and why a before-and-after "
        "comparison can mislead.",
        "Writes a logic model and an evaluation plan for a local service change with "
        "support.",
        "Designs and runs quasi-experimental evaluations (for example difference in "
        "differences or synthetic control) and judges what they can and cannot show.",
        "Leads evaluation programmes across a system, commissions external evaluation well "
        "and builds evaluation into how changes are planned.",
    ),
    Seed(
        "evidence-review", "Evidence review", Strand.DECISION_MAKING,
        "Finding, appraising and summarising published and grey evidence so that "
        "decision-makers know what is already known.",
        "Knows where to look for evidence (for example NICE, Cochrane, the King's Fund) and "
        "that studies differ in quality.",
        "Runs a structured search and summarises the main findings of several studies with "
        "their strengths and limits.",
        "Carries out rapid reviews with explicit inclusion criteria and critical appraisal, "
        "and states how confident the evidence allows us to be.",
        "Leads evidence reviews for system-wide decisions and trains others in appraisal.",
    ),
    # ------------------------------------------------------------ developing analytical leaders
    Seed(
        "analytical-leadership", "Analytical leadership", Strand.ANALYTICAL_LEADERS,
        "Leading analytical teams and work so that analysis is timely, trusted and used: "
        "setting direction, prioritising demand and standing up for good practice.",
        "Understands how their own work contributes to their team's priorities.",
        "Leads a piece of analytical work end to end, managing its scope, time and "
        "stakeholders.",
        "Leads a team or function, prioritises its work against the system's decisions and "
        "builds its reputation with senior leaders.",
        "Shapes the analytical strategy of an ICS or the region and represents analysts in "
        "senior forums.",
    ),
    Seed(
        "developing-others", "Developing other analysts", Strand.ANALYTICAL_LEADERS,
        "Coaching, mentoring and growing the skills of other analysts, and building a team "
        "culture of learning and peer review.",
        "Shares what they know with colleagues and asks for feedback on their own work.",
        "Reviews colleagues' work constructively and helps newer analysts with routine "
        "tasks.",
        "Coaches and mentors analysts, plans their development and runs peer review in the "
        "team.",
        "Designs development programmes and communities of practice across organisations.",
    ),
    Seed(
        "system-working", "Working across the system", Strand.ANALYTICAL_LEADERS,
        "Working with analysts and leaders in other organisations of the ICS and region to "
        "share data, methods and effort.",
        "Knows the organisations in their ICS and who does analysis in them.",
        "Takes part in shared work with analysts from other organisations.",
        "Leads joint analytical projects across organisations and agrees how data and "
        "results are shared.",
        "Builds lasting networks and shared analytical capacity across the system.",
    ),
    # ------------------------------------------------------------ strengthening capability
    Seed(
        "forecasting", "Forecasting", Strand.ANALYTICAL_CAPABILITY,
        "Forecasting activity, demand and capacity with appropriate time-series methods, "
        "and saying honestly how uncertain the forecast is.",
        "Knows that trend, seasonality and noise differ and that naive forecasts are a "
        "baseline to beat.",
        "Produces forecasts with standard methods (for example ETS or ARIMA) using existing "
        "code, with prediction intervals.",
        "Chooses, tests and combines forecasting methods for the problem, using "
        "cross-validation, and explains the forecast to planners.",
        "Sets forecasting standards across a system, develops new methods and reviews "
        "others' forecasts.",
    ),
    Seed(
        "population-health", "Population health analytics", Strand.ANALYTICAL_CAPABILITY,
        "Using linked data to understand the health and needs of a population: segmentation, "
        "risk stratification, unwarranted variation and inequalities.",
        "Knows what population health management is and what linked datasets exist locally.",
        "Produces standard population health outputs such as segmentation or inequality "
        "measures with support.",
        "Designs population health analyses for a question, such as risk models or "
        "variation studies, and interprets them with clinicians.",
        "Leads an ICS's population health analytics and its use in planning and "
        "commissioning.",
    ),
    Seed(
        "operational-research", "Operational research methods", Strand.ANALYTICAL_CAPABILITY,
        "Using modelling methods such as queueing, simulation, optimisation and system "
        "dynamics to understand how services behave and test changes before making them.",
        "Knows which problems modelling can help with, such as waiting lists and bed "
        "capacity.",
        "Builds simple models, such as a queueing model or a spreadsheet simulation, with "
        "guidance.",
        "Builds, validates and explains discrete-event or system dynamics models for real "
        "service decisions.",
        "Leads complex modelling programmes and advises leaders on when modelling adds "
        "value.",
    ),
    Seed(
        "machine-learning", "Machine learning", Strand.ANALYTICAL_CAPABILITY,
        "Applying supervised and unsupervised learning responsibly: choosing methods, "
        "validating them properly and checking them for bias.",
        "Knows what machine learning is, what it needs and where it can go wrong.",
        "Trains and evaluates standard models (for example regression or random forests) "
        "on prepared data using existing code.",
        "Builds validated, explainable models for a real problem, with attention to bias, "
        "drift and information governance.",
        "Leads machine learning work across organisations and sets the standards for its "
        "safe use.",
    ),
    Seed(
        "open-source-coding", "Open-source coding", Strand.ANALYTICAL_CAPABILITY,
        "Writing analysis as code (R, Python, SQL) that others can read, rerun and reuse, "
        "with version control and openly shared where possible.",
        "Can run an existing script and knows why reproducible analysis matters.",
        "Writes scripts for their own analysis and keeps them under version control.",
        "Writes tested, documented, packaged code that colleagues reuse, and reviews "
        "others' code.",
        "Leads open-source practice across teams, publishes reusable tools and mentors "
        "others in good coding practice.",
    ),
    Seed(
        "data-visualisation", "Data visualisation", Strand.ANALYTICAL_CAPABILITY,
        "Choosing and designing charts, tables and dashboards that show the message in the "
        "data clearly, honestly and accessibly.",
        "Knows that different charts suit different data and that charts can mislead.",
        "Produces clear standard charts and dashboards following a style guide.",
        "Designs visualisations and dashboards for a specific audience and decision, "
        "including accessible alternatives.",
        "Sets visualisation standards for an organisation and develops others' design "
        "skills.",
    ),
    # ------------------------------------------------------------ moving beyond the numbers
    Seed(
        "communicating-with-numbers", "Communicating with numbers", Strand.BEYOND_NUMBERS,
        "Telling the story in the analysis in words, numbers and pictures that "
        "decision-makers read, understand and act on.",
        "Knows that the audience and the decision should shape how results are presented.",
        "Writes clear summaries and headlines for routine reports.",
        "Tailors messages to boards, clinicians and the public, including what is uncertain, "
        "and presents them with confidence.",
        "Shapes how the system reports analysis and coaches others to communicate it.",
    ),
    Seed(
        "knowledge-mobilisation", "Knowledge mobilisation", Strand.BEYOND_NUMBERS,
        "Getting evidence and analysis into use: working with the people who will use it, "
        "sharing learning across organisations and helping change happen.",
        "Knows that publishing a report is not the same as its findings being used.",
        "Shares findings with the people who can use them and records what happened next.",
        "Plans how analysis will be used from the start, works alongside its users and "
        "brokers learning between organisations.",
        "Leads knowledge mobilisation across a system and builds its networks and "
        "infrastructure.",
    ),
    Seed(
        "systems-thinking", "Systems thinking", Strand.BEYOND_NUMBERS,
        "Seeing services as connected systems: feedback loops, delays and unintended "
        "consequences, and where to intervene.",
        "Knows that changing one part of a system affects others.",
        "Draws causal loop diagrams of a familiar service with support.",
        "Uses systems mapping with stakeholders to find leverage points and test the "
        "likely effects of a change.",
        "Brings systems approaches into strategy across organisations and teaches them.",
    ),
    Seed(
        "public-involvement", "Working with patients and the public", Strand.BEYOND_NUMBERS,
        "Involving patients, carers and communities in shaping questions, interpreting "
        "results and judging what matters, alongside the numbers.",
        "Knows why lived experience matters and what involvement can look like.",
        "Includes qualitative insight and public voice in their analysis with support.",
        "Co-designs analysis with patients and communities and combines qualitative and "
        "quantitative evidence.",
        "Leads involvement practice for analysis across a system.",
    ),
]

# Which demo courses build which competencies, and to what level (1 Aware … 4 Expert).
COURSE_MAPPINGS: dict[str, list[tuple[str, int]]] = {
    "Leadership for Analysts": [("analytical-leadership", 3), ("developing-others", 3),
                                ("system-working", 3), ("communicating-with-numbers", 2)],
    "Decision Quality for system leaders": [("decision-quality", 3), ("problem-framing", 3),
                                            ("uncertainty-and-risk", 2),
                                            ("analytical-leadership", 2)],
    "Time-series forecasting with R": [("forecasting", 3), ("open-source-coding", 2),
                                       ("uncertainty-and-risk", 2)],
    "Introduction to Decision Quality": [("decision-quality", 1)],
    "Communicating with numbers": [("communicating-with-numbers", 3),
                                   ("data-visualisation", 2)],
    "Population health analytics": [("population-health", 3), ("data-visualisation", 1)],
    "Open-source coding in Python for analysts": [("open-source-coding", 2),
                                                  ("machine-learning", 1)],
    "Evaluation design": [("evaluation-design", 3), ("evidence-review", 2)],
    "Systems thinking for analysts": [("systems-thinking", 2), ("operational-research", 1)],
}
