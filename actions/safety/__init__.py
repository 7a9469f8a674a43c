"""Rule-based safety detectors, standard library only, importable from Python 3.10 and 3.11.

- `actions.safety.warning_signs.detect_warning_signs`: warning signs of a serious reaction.
- `actions.safety.personal_medical.detect_personal_medical`: personal medical questions.

The package imports nothing itself, so a problem in one detector can never stop the other
(above all the warning-sign detector) from importing.
"""
