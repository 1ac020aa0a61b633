"""The clinical record of follow-up, as pure domain code: who may do what, the closed vocabularies
of lesions, procedures, complications and outcomes, the frozen records storage hands back, and
the small rules over them (an injection's relief as a later test, complication alerts, pain
series for charts). Imports no framework; storage and the web are adapters around it."""
