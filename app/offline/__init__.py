"""Answering offline with ODK Collect or KoboCollect.

- `xlsform`: a questionnaire version as an XLSForm workbook (survey, choices, settings),
  in every language it is translated to.
- `odk_import`: the submissions KoboToolbox or ODK Central export (CSV or JSON), read
  back into answers, validated as the web journey validates them, scored and stored
  as submitted assessments, all or nothing.
- `cards`: each imported assessment's private link, as a CSV or as printable result
  cards with QR codes.
"""
