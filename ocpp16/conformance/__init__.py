"""Grading a central system against OCPP 1.6: cases, a runner, verdicts and reports."""
