"""Compatibility name of :mod:`nnassign.batch` (the batch grader); new code imports batch."""

from .batch import *  # noqa: F401,F403
from .batch import (STATUSES, Job, autograder_fingerprint, autograder_points, discover, empty_result,  # noqa: F401
                    file_sha256, grade_batch, grade_one, grading_secret, load_done, question_names,
                    resolve_notebook, write_grades_csv, write_json_atomic, write_text_atomic)
