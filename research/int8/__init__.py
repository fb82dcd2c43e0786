"""INT8 landmark models (issue 8): calibration crops, quantization, evaluation, QAT.

See research/int8/README.md; the report is docs/int8.md.
"""
